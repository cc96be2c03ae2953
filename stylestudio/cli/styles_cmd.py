"""``stylestudio styles``: list, import, export, rename and remove styles; export a style as
ONNX; import a community fast-neural-style model; save a blend of styles as a new style."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stylestudio.core.jobs import LibraryOp, LibraryOpKind, run_library_op


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("styles", help="manage the style library")
    sub = p.add_subparsers(dest="styles_command", metavar="ACTION", required=True)

    ls = sub.add_parser("list", help="list installed styles")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=_list)

    imp = sub.add_parser("import", help="import .stylepack files or style folders")
    imp.add_argument("packs", nargs="+", type=Path, metavar="PACK")
    imp.set_defaults(func=_import)

    exp = sub.add_parser("export", help="export a style as a .stylepack (or an ONNX model)")
    exp.add_argument("style", help="style id or name")
    exp.add_argument("dest", type=Path, nargs="?", help="target .stylepack file or folder")
    exp.add_argument(
        "--onnx",
        type=Path,
        metavar="OUT.onnx",
        help="write an ONNX model instead (dynamic size, RGB [0, 1] NCHW in and out; needs the "
        "'onnx' extra)",
    )
    exp.set_defaults(func=_export)

    imm = sub.add_parser(
        "import-model",
        help="import a fast-neural-style TransformerNet checkpoint (pytorch/examples) as a style",
    )
    imm.add_argument("file", type=Path, metavar="FILE", help="torch state dict or .safetensors")
    imm.add_argument("--name", required=True, help="name of the new style")
    imm.add_argument("--license", default="", help="the model's licence, stored in the style")
    imm.add_argument("--attribution", default="", help="who made the model, stored in the style")
    imm.set_defaults(func=_import_model)

    mix = sub.add_parser(
        "mix",
        help="save a blend of 2-4 styles of one base model as a new style",
        description="Interpolate the networks of 2 to 4 styles that share a base model (weights "
        "are normalised to sum to 1) and save the result as a new style.",
    )
    mix.add_argument(
        "spec", metavar="BLEND", help='styles and weights, e.g. "starry-night:0.6,great-wave:0.4"'
    )
    mix.add_argument("--name", required=True, help="name of the new style")
    mix.set_defaults(func=_mix)

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


def _op(kind: LibraryOpKind, style_id: str = "", name: str = "", path: Path | None = None) -> str:
    """One library operation through the core's job layer (the GUI runs the same ones)."""
    return run_library_op(_library(), LibraryOp(kind, style_id, name, path))


def _import(args: argparse.Namespace) -> int:
    from stylestudio.core.errors import StyleStudioError

    failed = 0
    for pack in args.packs:
        try:
            style_id = _op(LibraryOpKind.IMPORT, path=pack)
        except StyleStudioError as exc:
            print(f"{pack}: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"Imported {_library().get(style_id).manifest.name!r} as {style_id}")
    return 1 if failed else 0


def _export(args: argparse.Namespace) -> int:
    if (args.dest is None) == (args.onnx is None):
        print(
            "stylestudio styles export: error: give either DEST (a .stylepack) or --onnx OUT.onnx",
            file=sys.stderr,
        )
        return 2
    if args.onnx is not None:
        from stylestudio.core.onnx_export import export_onnx, require_onnx

        require_onnx()  # the one-line "install the extra" message before anything else
        record = _library().get(args.style)
        result = export_onnx(record.location, args.onnx)
        print(f"Exported {record.manifest.name!r} to {result.path} (ONNX, opset {result.opset})")
        return 0
    record = _library().get(args.style)
    dest = args.dest
    if dest.is_dir():
        dest = dest / f"{record.manifest.id}.stylepack"
    path = _op(LibraryOpKind.EXPORT, record.manifest.id, path=dest)
    print(f"Exported {record.manifest.name!r} to {path}")
    return 0


def _rename(args: argparse.Namespace) -> int:
    style_id = _library().get(args.style).manifest.id
    name = _op(LibraryOpKind.RENAME, style_id, args.name)
    print(f"Renamed {style_id} to {name!r}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    record = _library().get(args.style)
    _op(LibraryOpKind.DELETE, record.manifest.id)
    print(f"Removed {record.manifest.name!r} ({record.manifest.id})")
    return 0


def _mix(args: argparse.Namespace) -> int:
    from stylestudio.core.mix_save import save_blend
    from stylestudio.core.mixing import parse_blend_spec, resolve_blend
    from stylestudio.core.stylepack import clean_name

    name = clean_name(args.name)  # a bad name fails before any work
    library = _library()
    blend = resolve_blend(parse_blend_spec(args.spec), library)
    record = save_blend(library, blend, name)
    print(f"Saved the blend of {blend.describe()} as {record.name!r} ({record.id})")
    return 0


def _import_model(args: argparse.Namespace) -> int:
    from stylestudio.core.model_import import ModelImportRequest, import_model

    request = ModelImportRequest(args.file, args.name, args.license, args.attribution)
    result = import_model(_library(), request)
    for note in result.notes:
        print(f"Note: {note}", file=sys.stderr)
    print(f"Imported {result.record.name!r} as {result.record.id}")
    return 0
