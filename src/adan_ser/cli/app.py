"""The ``adan`` group: one-line errors, stage commands that exit with their owner, the pinned-kernel
restart and the options every command shares (:func:`stage` registers a command)."""

from __future__ import annotations

import functools
import signal
import sys
import warnings

import click

from adan_ser.core.errors import AdanError
from adan_ser.core.kernels import exec_portable
from adan_ser.core.lifecycle import exit_with_parent, raise_on_term
from adan_ser.params import load_params


#: ``adan --help`` lists the commands under these headings, in data-flow order.
SECTIONS = {
    "Data": ("demo", "prepare"),
    "Features": ("extract", "spectrogram"),
    "Augmentation": ("augment", "export"),
    "Evaluation": ("evaluate", "evaluate-spectro"),
    "Report": ("report", "pool"),
}


class CommandError(click.ClickException):
    """An AdanError raised by a command, shown as ``adan <command>: error: <message>``."""

    exit_code = 2

    def __init__(self, command: str, message: str):
        # the contract is one line; a message that spans several is joined rather than cut
        super().__init__(" ".join(line.strip() for line in message.splitlines() if line.strip()))
        self.command = command

    def show(self, file=None) -> None:
        click.echo(f"adan {self.command}: error: {self.format_message()}", file=file, err=file is None)


def _warning_line(command: str):
    """``warnings.showwarning`` printing one line, ``adan <command>: warning: ...``, above any
    progress bar (tqdm.write) instead of Python's two-line form with a source line inside it."""

    def show(message, category, filename, lineno, file=None, line=None):
        from tqdm.auto import tqdm

        tqdm.write(f"adan {command}: warning: {' '.join(str(message).split())}", file=sys.stderr)

    return show


class StageCommand(click.Command):
    def invoke(self, ctx: click.Context):
        try:
            with warnings.catch_warnings():
                warnings.showwarning = _warning_line(self.name)
                return super().invoke(ctx)
        except AdanError as exc:
            raise CommandError(self.name, str(exc)) from None
        except KeyboardInterrupt as exc:
            # outputs are renamed into place only when complete, so an interrupt leaves none
            signum = getattr(exc, "signum", signal.SIGINT)
            click.echo(f"adan {self.name}: interrupted ({signal.Signals(signum).name}), nothing written", err=True)
            ctx.exit(128 + signum)


class Pipeline(click.Group):
    """The ``adan`` group: commands in data-flow order under :data:`SECTIONS` headings.

    Calling it (``main(["prepare", "-o", "m.csv"])``, or the ``adan`` console script) returns the
    exit status instead of raising SystemExit; ``main.main(...)`` keeps click's behaviour (what
    ``click.testing.CliRunner`` calls). Called without arguments (the command line), it first
    restarts itself on pinned CPU kernels (:func:`adan_ser.core.kernels.exec_portable`).
    """

    command_class = StageCommand

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        listed = [name for names in SECTIONS.values() for name in names]
        sections = {**SECTIONS, "Other": tuple(n for n in self.commands if n not in listed)}
        for title, names in sections.items():
            names = [n for n in names if n in self.commands]
            width = formatter.width - 6 - max((len(n) for n in names), default=0)
            rows = [(n, self.commands[n].get_short_help_str(width)) for n in names]
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)

    def __call__(self, args=None, **extra) -> int:
        if args is None:  # the real command line: restart on pinned kernels (core/kernels.py)
            exec_portable()
        extra.setdefault("prog_name", "adan")
        try:
            self.main(args, **extra)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return 0


def _example(text: str) -> str:
    return f"\b\nExample:\n  {text}"  # \b: click keeps the line as written


@click.group(cls=Pipeline, epilog=_example("adan prepare -o data/manifest.csv   (dvc repro runs every stage)"),
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--params", "params_file", default="params.yaml", show_default=True, metavar="FILE",
              help="params file (also accepted after the command)")
@click.version_option(package_name="adan-ser", prog_name="adan")
def main(params_file: str) -> None:
    """adan: speech emotion recognition with adversarial data augmentation, one command per DVC stage.

    Settings come from the params file; options override them for one run.
    """
    # `kill` (SIGTERM) stops a command as Ctrl-C does: temporary outputs removed, pools shut down
    raise_on_term()
    # Under `dvc repro`, a killed dvc must not leave this command running on its own.
    exit_with_parent()


# ---------------------------------------------------------------------------- shared options

params_option = click.option("--params", "params_file", default=None, metavar="FILE",
                             help="params file (default: the one before the command, else params.yaml)")
manifest_option = click.option("-m", "--manifest", default="data/manifest.csv", show_default=True,
                               help="manifest CSV written by adan prepare")
root_option = click.option("--root", help="override data.root")
log_dir_option = click.option("--log-dir", default=None, help="dvclive training curves go under this folder")


def output_option(help: str, default: str | None = None):
    return click.option("-o", "--output", required=default is None, default=default,
                        show_default=default is not None, help=help)


def features_option(help: str = "feature table (parquet) written by adan extract", required: bool = True):
    return click.option("-f", "--features", required=required, help=help)


def scheduler_option(key: str):
    return click.option("--scheduler", help=f"override {key}: local, localcluster:N or a Dask address tcp://host:8786")


_PARAMS_FILE = "adan_ser.params_file"


def params_file() -> str:
    """The params file the running command read (an output folder that is replaced whole must not hold it)."""
    return click.get_current_context().meta[_PARAMS_FILE]


def stage(name: str, example: str):
    """Register ``fn`` as ``adan <name>``: it gets the validated params (:class:`Params`) first,
    then its options; ``--params`` is added. Its docstring is the help, ``example`` the epilog."""

    def register(fn):
        @functools.wraps(fn)
        def run(params_file, **options):
            context = click.get_current_context()
            path = params_file or context.find_root().params["params_file"]
            context.meta[_PARAMS_FILE] = path
            return fn(load_params(path), **options)

        return main.command(name, epilog=_example(example))(params_option(run))

    return register


