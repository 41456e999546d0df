"""Before the app starts on a real display: are the system libraries Qt's X11 (xcb) plugin needs installed?

Qt's own answer is "Could not load the Qt platform plugin xcb", which names no library. This probe asks the
dynamic linker (ldd) what libqxcb.so and the Qt libraries it loads cannot find, and names the Debian/Ubuntu
package of each: `error: ... sudo apt-get install libxcb-cursor0`, exit 2. It prints nothing and exits 0 when
all are there, on the offscreen platform, and where there is no ldd (not Linux). Used by scripts/dev.sh app.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

# The libraries PySide6's xcb plugin and its Qt libraries link (ldd on Debian 12), and their packages.
PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4", "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1", "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0", "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0", "libxcb-shm.so.0": "libxcb-shm0", "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1", "libxcb-xfixes.so.0": "libxcb-xfixes0", "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-glx.so.0": "libxcb-glx0", "libxcb.so.1": "libxcb1", "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1", "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0", "libGL.so.1": "libgl1", "libEGL.so.1": "libegl1",
    "libGLX.so.0": "libglx0", "libfontconfig.so.1": "libfontconfig1", "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0", "libgthread-2.0.so.0": "libglib2.0-0", "libdbus-1.so.3": "libdbus-1-3",
}
NOT_XCB = ("offscreen", "minimal", "vnc", "wayland", "eglfs", "linuxfb")  # platforms that need no X11 libraries
QT_LIBS = ("plugins/platforms/libqxcb.so", "lib/libQt6XcbQpa.so.6", "lib/libQt6Gui.so.6", "lib/libQt6Widgets.so.6",
           "lib/libQt6DBus.so.6")


def missing_libraries(qt_dir: Path) -> list[str]:
    """The shared libraries that the dynamic linker cannot find for Qt's xcb plugin, in order, without repeats."""
    missing: list[str] = []
    for relative in QT_LIBS:
        path = qt_dir / relative
        if not path.exists():
            continue
        done = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=False)
        for line in done.stdout.splitlines():
            name, _, where = line.strip().partition(" => ")
            if where.strip() == "not found" and name not in missing:
                missing.append(name)
    return missing


def advice(missing: list[str]) -> str:
    packages = sorted({PACKAGES[name] for name in missing if name in PACKAGES})
    unknown = [name for name in missing if name not in PACKAGES]
    text = (f"error: Qt cannot open windows on this display: the system libraries {', '.join(missing)} are missing. "
            f"Install them with: sudo apt-get install {' '.join(packages)}" if packages else
            f"error: Qt cannot open windows on this display: the system libraries {', '.join(missing)} are missing.")
    if unknown:
        text += f" (find the package of {', '.join(unknown)} with: apt-file search <name>)"
    return text + " — README.md, 'Set-up', lists every package the app needs."


def main() -> int:
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform.startswith(NOT_XCB) or not sys.platform.startswith("linux") or shutil.which("ldd") is None:
        return 0
    import PySide6  # the package only: importing QtGui would itself fail without these libraries

    missing = missing_libraries(Path(PySide6.__file__).parent / "Qt")
    if missing:
        print(advice(missing), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
