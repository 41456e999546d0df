"""The Retrain dialog's sentences, in plain words (the technical terms go in tooltips)."""
from __future__ import annotations

from core.model.config import DEFAULT_FIELD_OF_VIEW_MM
from core.training.retrain import MAX_SLICES, RetrainPlan
from core.training.step_time import StepTime
from core.training.workspace_data import TrainingInventory


def slice_ranges(indexes: list[int]) -> str:
    """0-based slice indexes as 1-based runs: [3, 4, 5, 9] -> "4–6, 10"."""
    runs, start = [], None
    for position, index in enumerate(sorted(indexes)):
        if start is None:
            start = index
        following = sorted(indexes)[position + 1] if position + 1 < len(indexes) else None
        if following != index + 1:
            runs.append(f"{start + 1}" if start == index else f"{start + 1}–{index + 1}")
            start = None
    return ", ".join(runs)


def inventory_lines(inventory: TrainingInventory) -> list[str]:
    """One line per case: which slices train (and how many only autosaved), then each case left out and why."""
    lines = []
    for items in inventory.by_case().values():
        pending = sum(item.autosaved is not None for item in items)
        note = f"; {pending} not saved yet (their autosaved version is used)" if pending else ""
        lines.append(f"{items[0].case_name}: slices {slice_ranges([i.index for i in items])}{note}")
    lines.extend(f"{name}: left out — {why}" for name, why in inventory.excluded.items())
    return lines


def checking_text(held_out: int) -> str:
    if held_out == 0:
        return ("Nothing is kept aside to check the model (that needs at least two cases and a share above 0 in "
                "Advanced): the last round of training is kept, and the new model cannot be compared with the one "
                "in use.")
    return (f"{held_out} case(s) are kept aside to check the model on slices it has not learnt from; the round "
            "that segments them best is kept, and the new model is compared with the one in use on them.")


def schedule_text(plan: RetrainPlan) -> str:
    epochs, warm_up = plan.value("epochs"), min(plan.value("freeze_epochs"), plan.value("epochs"))
    size, cap = plan.value("input_size"), plan.settings.get(MAX_SLICES)
    parts = [f"{epochs} round(s) over the data"]
    if warm_up >= epochs:
        parts.append("the image-reading part of the network kept fixed throughout")
    elif warm_up:
        parts.append(f"the first {warm_up} with the image-reading part of the network kept fixed")
    if cap:
        parts.append(f"at most {cap} slices per case")
    mm = plan.value("mm_per_pixel") or DEFAULT_FIELD_OF_VIEW_MM / size
    return (", ".join(parts) + f"; {plan.value('batch_size')} slices per step at {size}×{size} pixels, "
            f"{mm:g} mm per pixel.")


def alternative_text(kind: str, settings: dict, duration: str | None) -> str:
    """What the other plan (kind "paper" or "finishing", with `settings`) would take here."""
    time = duration or "a time still being measured"
    if kind == "paper":
        return (f"The paper's full schedule ({settings['epochs']} rounds, the first {settings['freeze_epochs']} with "
                f"that part kept fixed, every slice) would take {time} here.")
    return (f"The plan that finishes on this computer ({settings['epochs']} rounds with that part kept fixed, at most "
            f"{settings[MAX_SLICES]} slices per case) would take {time} here.")


def duration_text(seconds: float) -> str:
    minutes = seconds / 60
    if minutes < 1:
        return "under a minute"
    if minutes < 1.5:
        return "about 1 minute"
    if minutes < 90:
        return f"about {round(minutes)} minutes"
    if minutes < 48 * 60:
        return f"about {minutes / 60:.1f} hours"
    return f"about {minutes / (24 * 60):.1f} days"


def describe_device() -> tuple[str, bool]:
    """("the graphics card NVIDIA …, 24.0 GB", True) with a CUDA GPU, else ("the processor (CPU)", False)."""
    import torch

    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        return f"the graphics card {props.name} ({props.total_memory / 2 ** 30:.1f} GB)", True
    return "the processor (CPU)", False


def device_text(plan: RetrainPlan, step: StepTime | None, duration: str | None) -> str:
    name, gpu = describe_device()
    where = "the processor (CPU)" if plan.value("device") == "cpu" else name
    if step is None:
        return f"Runs on {where}. Time: measuring one training step on this computer…"
    frozen = step.frozen_seconds_per_slice or step.seconds_per_slice
    return (f"Runs on {where}. Time: {duration} (a training step measured here took {frozen:.2f} s per slice with "
            f"the image-reading part kept fixed, {step.seconds_per_slice:.2f} s per slice with the whole network "
            "learning).")
