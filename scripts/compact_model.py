"""Rewrite a model file with compact weights (per-channel int8 or fp16); the checksum covers everything.

    python scripts/compact_model.py IN.msmodel OUT.msmodel --int8 [--provenance FACTS.json]

--provenance adds a JSON object to the new file's metadata (`info.provenance`): how the model was
trained, where that record is not already in the file. Made the bundled starter model
(resources/models/, see BENCHMARKS.md "Starter model").
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.errors import MandibleStudioError  # noqa: E402
from core.model.model_file import compact_model, load_model  # noqa: E402


def _provenance(path: Path | None) -> dict | None:
    if path is None:
        return None
    try:
        facts = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MandibleStudioError(f"--provenance {path} cannot be read as JSON ({exc}); give a JSON object") from exc
    if not isinstance(facts, dict):
        raise MandibleStudioError(f"--provenance {path} holds no JSON object; give one like {{\"gpu\": \"...\"}}")
    return facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="model file to read (.msmodel, format 1 or 2)")
    parser.add_argument("dest", type=Path, help="compact model file to write")
    storage = parser.add_mutually_exclusive_group(required=True)
    storage.add_argument("--int8", dest="storage", action="store_const", const="int8",
                         help="per-channel int8 convolution weights (about 4x smaller)")
    storage.add_argument("--fp16", dest="storage", action="store_const", const="fp16",
                         help="fp16 convolution weights (about 2x smaller)")
    parser.add_argument("--provenance", type=Path, help="JSON object recorded as info.provenance")
    args = parser.parse_args(argv)
    try:
        if args.dest.resolve() == args.source.resolve():
            raise MandibleStudioError("OUT is IN; write the compact model to another file")
        sha = compact_model(args.source, args.dest, args.storage, _provenance(args.provenance))
        load_model(args.dest)  # read back: the file on disk verifies
    except MandibleStudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    size = args.dest.stat().st_size / 1e6
    print(f"wrote {args.dest} ({args.storage}, {size:.1f} MB, sha256 {sha[:12]}) from {args.source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
