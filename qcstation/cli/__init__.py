"""Command line: `qcstation <command>`; each command is a thin module over the core."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from ..errors import OutputError, QCError
from ..memory import keep_large_buffers

# command name -> module in this package with `add_arguments(parser)` and `run(args) -> int`
COMMANDS = {
    "calibrate": ("calibrate", "Camera intrinsics, distortion and bench plane from chessboards."),
    "inspect": ("inspect_cmd", "Inspect net images against a buyer spec."),
    "synth": ("synth", "Render synthetic coir-net photos with exact ground truth."),
    "eval": ("evaluate", "Accuracy table of inspect over a ground-truth folder."),
    "demo": ("demo", "Run the station demo on a simulated camera."),
    "serve": ("serve", "Run the station: capture, inspection, storage, outputs, web view."),
    "train": ("train", "Train the defect model and export it to ONNX."),
    "gauge": ("gauge", "The bench against a hand gauge: bias, spread, repeatability."),
    "user": ("user", "Add users of the web view."),
    "token": ("token", "Create API tokens for scripts and dashboards."),
    "export-reviewed": ("export_reviewed", "Export reviewed photos as a labelled test set."),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one plain sentence, exit 2, no usage dump
        self.exit(2, f"qcstation: {message}; see --help.\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="qcstation", description="Quality control station for coir nets.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (module, help_text) in COMMANDS.items():
        mod = importlib.import_module(f".{module}", __name__)
        p = sub.add_parser(name, help=help_text, description=help_text)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    keep_large_buffers()
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return args._run(args)
    except OutputError as e:
        if e.closed:
            from .outputs import silence_stdout

            silence_stdout()
        print(f"qcstation {args.command}: {e}", file=sys.stderr)
        return 1 if e.closed else 2
    except QCError as e:
        print(f"qcstation {args.command}: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # a print of a command other than inspect's result lines
        from .outputs import silence_stdout

        silence_stdout()
        print(f"qcstation {args.command}: the output was closed before everything was "
              "written.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
