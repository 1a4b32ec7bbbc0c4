"""The credentials letters owed (``models.letters``), printed file by file for the print shop.

A file holds at most ``letters.PER_FILE`` letters. Its HTML is written here (the
templates need the application); WeasyPrint lays it out in a process of its own,
one per core, which gives back the memory of each file's layout and ends after a
number of files (the allocator's leftovers go with it): what a run needs does not
grow with its number of letters. A file is
written whole (a temporary file, then a rename) and only then marked written.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import hashlib
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

from models import letters
from models.shared.clock import to_paris
from models.shared.db import database
from models.shared.memory import give_back_memory
from models.shared.pdf import pdf_from_html

from ..shared.documents import credentials_letters_html
from .files import write_atomically

# Files a printing process lays out before it ends and another takes its place (each gives
# back what its layout took; the new process sheds what the allocator still kept).
FILES_PER_PROCESS = 25


@dataclass
class Printed:
    """What a printing run did, and what it left owed."""

    folder: Path
    letters: int = 0
    files: list[str] = field(default_factory=list)
    owed: int = 0  # letters still owed at the end
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def summary(self) -> str:
        if not self.files and not self.failed:
            return "no letter to print"
        done = f"{self.letters} letter(s) printed in {len(self.files)} file(s)"
        if self.files:
            names = (
                self.files[0] if len(self.files) == 1 else f"{self.files[0]} to {self.files[-1]}"
            )
            done += f" in {self.folder} ({names})"
        if not self.failed:
            return done
        return (
            f"{done}; {self.owed} letter(s) still owed, not printed: {self.error}; print them "
            f"with « python app.py letters --folder <a folder that can be written> »"
        )


def print_letters(
    app: Flask,
    folder: Path,
    per_file: int = letters.PER_FILE,
    processes: int | None = None,
    large_print: bool = False,
) -> Printed:
    """Every letter owed, printed into ``folder``, at most ``per_file`` to a file: the files
    a stopped run recorded first, then new ones. A file that cannot be written stays owed
    and the others are still written; a file that cannot be printed stops the run (the
    next ones would fail the same way). Whatever is not written stays owed.
    ``large_print``: every letter in 16 pt (a run for the holders known to need it)."""
    key = app.config["SECRET_KEY"]
    printed = Printed(folder)
    gc.collect()  # what the import before held, given back while the letters print
    give_back_memory()
    with database.connection_context():
        letters.owe_first_letters(key)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            printed.error = f"cannot make the folder {folder}: {error.strerror or error}"
            printed.owed = letters.owed_count()[0]
            return printed
        files = letters.unwritten_files()
        earlier = {}  # a file recorded for another folder: its copy there, if any, goes
        for letter_file in files:
            if letter_file.folder != str(folder):
                earlier[letter_file.id] = Path(letter_file.folder) / letter_file.name
                letters.move_file(letter_file, str(folder))
        while (letter_file := letters.record_next_file(str(folder), per_file)) is not None:
            files.append(letter_file)
    try:
        for letter_file, pdf, count in _printed_files(app, files, key, processes, large_print):
            try:
                _write(folder, letter_file, pdf, count, earlier.get(letter_file.id))
            except OSError as error:  # this file only (a full disk refuses the next ones too)
                printed.error = (
                    printed.error or f"cannot write in {folder}: {error.strerror or error}"
                )
                continue
            printed.letters += count
            if count:
                printed.files.append(letter_file.name)
    except Exception as error:  # WeasyPrint, or a printing process gone (memory)
        app.logger.exception("Printing the letters failed")
        printed.error = printed.error or f"printing failed: {type(error).__name__}: {error}"
    if printed.failed:
        with database.connection_context():
            printed.owed = letters.owed_count()[0]
    return printed


def _html(
    app: Flask, letter_file: letters.LetterFile, key: str, large_print: bool = False
) -> tuple[str, int]:
    with database.connection_context():
        content = letters.letters_of(letter_file, key)
    with app.app_context():
        html = credentials_letters_html(
            content,
            to_paris(letter_file.created_at).date(),  # printed again: the same letter
            app.config["PUBLIC_URL"] or "http://127.0.0.1:8000",
            app.config["ORGANISATION_NAME"],
            app.config["CONTACT_EMAIL"],
            large_print,
        )
    return html, len(content)


def _printed_files(app, files, key, processes, large_print=False):
    """Each file with its PDF, in the order they are done."""
    processes = processes or os.cpu_count() or 1
    if processes == 1 or len(files) < 2:
        for letter_file in files:
            html, count = _html(app, letter_file, key, large_print)
            yield letter_file, _printed(html) if count else b"", count
        return
    waiting = iter(files)
    running: dict[Future, tuple[letters.LetterFile, int]] = {}
    with ProcessPoolExecutor(
        processes,
        # Started afresh (not forked from a process with threads and connections).
        mp_context=multiprocessing.get_context("spawn"),
        max_tasks_per_child=FILES_PER_PROCESS,
        initializer=_end_with,
        initargs=(os.getpid(),),
    ) as pool:
        try:
            while True:
                # Two files per process at most: one laid out, one waiting its turn.
                while len(running) < 2 * processes:
                    letter_file = next(waiting, None)
                    if letter_file is None:
                        break
                    html, count = _html(app, letter_file, key, large_print)
                    running[pool.submit(_printed, html)] = (letter_file, count)
                if not running:
                    return
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    letter_file, count = running.pop(future)
                    yield letter_file, future.result() if count else b"", count
        finally:
            for future in running:
                future.cancel()


def _printed(html: str) -> bytes:
    """One file's PDF; the memory its layout took goes back to the system."""
    pdf = pdf_from_html(html)
    gc.collect()
    give_back_memory()
    return pdf


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _end_with(command: int) -> None:
    """In each printing process: it ends when the command that started it ends, however
    (a killed command leaves no process behind, waiting forever for work)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
            raise OSError(ctypes.get_errno(), "prctl")
    except (OSError, AttributeError, TypeError):  # not Linux: look every second
        threading.Thread(target=_watch, args=(command,), daemon=True).start()
    if os.getppid() != command:  # gone already, before the line above
        os._exit(1)


def _watch(command: int) -> None:
    while os.getppid() == command:
        time.sleep(1)
    os._exit(1)


def _write(folder: Path, letter_file, pdf: bytes, count: int, earlier: Path | None) -> None:
    if count:
        for left in folder.glob(f".{letter_file.name}.*"):  # a killed run's temporary file
            left.unlink(missing_ok=True)
        write_atomically(folder / letter_file.name, pdf)
        if earlier is not None and earlier != folder / letter_file.name:
            # Out of reach, a copy there holds the same letters with the same codes.
            with contextlib.suppress(OSError):
                earlier.unlink(missing_ok=True)
    with database.connection_context():
        letters.mark_written(letter_file, hashlib.sha256(pdf).hexdigest(), count)
