"""``stylestudio styles``: list, import, export, rename and remove styles."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("styles", help="manage the style library")
    sub = p.add_subparsers(dest="styles_command", metavar="ACTION", required=True)

    ls = sub.add_parser("list", help="list installed styles")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=_list)

    imp = sub.add_parser("import", help="import .stylepack files or style folders")
    imp.add_argument("packs", nargs="+", type=Path, metavar="PACK")
    imp.set_defaults(func=_import)

    exp = sub.add_parser("export", help="export a style as a .stylepack")
    exp.add_argument("style", help="style id or name")
    exp.add_argument("dest", type=Path, help="target .stylepack file or folder")
    exp.set_defaults(func=_export)

    ren = sub.add_parser("rename", help="rename a user style")
    ren.add_argument("style", help="style id or name")
    ren.add_argument("name", help="new name")
    ren.set_defaults(func=_rename)

    rm = sub.add_parser("remove", help="delete a user style")
    rm.add_argument("style", help="style id or name")
    rm.set_defaults(func=_remove)


def _library():
    from stylestudio.core.library import StyleLibrary

    return StyleLibrary()


def _list(args: argparse.Namespace) -> int:
    styles = _library().list()
    if args.json:
        rows = [
            {
                "id": s.manifest.id,
                "name": s.manifest.name,
                "builtin": s.builtin,
                "location": str(s.location),
                "architecture": s.manifest.architecture,
                "created": s.manifest.created,
            }
            for s in styles
        ]
        print(json.dumps(rows, indent=2))
        return 0
    if not styles:
        print("No styles installed.")
        return 0
    width = max(len(s.manifest.id) for s in styles)
    for s in styles:
        kind = "built-in" if s.builtin else "user"
        print(f"{s.manifest.id:<{width}}  {kind:<8}  {s.manifest.name}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from stylestudio.core.errors import StyleStudioError

    library = _library()
    failed = 0
    for pack in args.packs:
        try:
            record = library.import_pack(pack)
        except StyleStudioError as exc:
            print(f"{pack}: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"Imported {record.manifest.name!r} as {record.manifest.id}")
    return 1 if failed else 0


def _export(args: argparse.Namespace) -> int:
    library = _library()
    record = library.get(args.style)
    dest = args.dest
    if dest.is_dir():
        dest = dest / f"{record.manifest.id}.stylepack"
    path = library.export_pack(record.manifest.id, dest)
    print(f"Exported {record.manifest.name!r} to {path}")
    return 0


def _rename(args: argparse.Namespace) -> int:
    library = _library()
    record = library.rename(library.get(args.style).manifest.id, args.name)
    print(f"Renamed {record.manifest.id} to {record.manifest.name!r}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    library = _library()
    record = library.get(args.style)
    library.delete(record.manifest.id)
    print(f"Removed {record.manifest.name!r} ({record.manifest.id})")
    return 0
