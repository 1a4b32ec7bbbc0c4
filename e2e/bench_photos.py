"""What photos cost the server: eight holders send one at the same moment, each kind in turn.

Run with ``python -m e2e.bench_photos``. It starts ``python app.py`` (gunicorn,
2 workers x 4 threads) on a fresh SQLite database with eight accounts, then,
for each kind of file, has the eight accounts send it at once and prints, per
worker process: its resident memory before, its peak during the uploads
(``VmHWM``, reset before each kind) and its memory a second after; the CPU the
workers spent; and what the uploads were answered. The files are those a
holder, or someone trying to make the server work for nothing, may send:

- the 16-bit PNG of the issue (4000 x 4000, about 130 KB on disk);
- the largest 8-bit PNG accepted (4000 x 3000, 36 MB once decoded);
- a progressive JPEG of 6000 x 6000 in full colour (its decoder keeps every
  coefficient of the picture: about 216 MB);
- a phone's photo (4000 x 3000 JPEG, a few MB).
"""

from __future__ import annotations

import argparse
import http.client
import io
import struct
import tempfile
import threading
import time
import zlib
from pathlib import Path

from PIL import Image

from tests.http_client import HttpClient, form_token

from .bench import Server, create_load_accounts, sign_in, sqlite_url

UPLOADERS = 8
PASSWORD = "Charge-2026"
BOUNDARY = "----banc-photos"


def png(width: int, height: int, depth: int, channels: int = 3) -> bytes:
    """A PNG written row by row (never held whole in memory): mostly black, a dot in
    five on every seventh row, so that it compresses as well as an attacker's."""
    colour_type = {1: 0, 3: 2, 4: 6}[channels]
    pixel = depth // 8 * channels
    dotted = bytearray(width * pixel)
    for x in range(0, width, 5):
        dotted[x * pixel : (x + 1) * pixel] = b"\xff" * pixel
    blank, dotted = b"\0" + bytes(width * pixel), b"\0" + bytes(dotted)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(dotted if y % 7 == 0 else blank) for y in range(height))
    data += packer.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def jpeg(width: int, height: int, noise: bool = False, **options) -> bytes:
    picture = (
        Image.effect_noise((width, height), 30).convert("RGB")
        if noise
        else Image.new("RGB", (width, height), "#7a9cc6")
    )
    out = io.BytesIO()
    picture.save(out, "JPEG", **options)
    return out.getvalue()


KINDS = {
    "PNG 16 bits 4000 x 4000": lambda: (png(4000, 4000, 16), "image/png"),
    "PNG 8 bits 4000 x 3000": lambda: (png(4000, 3000, 8), "image/png"),
    "JPEG progressif 6000 x 6000": lambda: (
        jpeg(6000, 6000, progressive=True, subsampling=0),
        "image/jpeg",
    ),
    "JPEG de téléphone 4000 x 3000": lambda: (jpeg(4000, 3000, noise=True), "image/jpeg"),
}


def status(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) // 1024
    return values


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks


def workers_of(arbiter: int) -> list[int]:
    children = Path(f"/proc/{arbiter}/task/{arbiter}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def upload(client: HttpClient, number: int, data: bytes, mimetype: str) -> int:
    path = f"/mes-donnees/photo/{number}"
    token = form_token(client.get(path).text)
    body = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="photo"; filename="photo"\r\n'
            f"Content-Type: {mimetype}\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    connection = http.client.HTTPConnection("127.0.0.1", client.port, timeout=120)
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                "Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items()),
            },
        )
        answer = connection.getresponse()
        answer.read()
        location = answer.getheader("Location") or ""
        # 303 to « envoyee=1 »: kept; 303 back to the form: refused with a message.
        return answer.status if answer.status != 303 else (1 if "envoyee=1" in location else 0)
    finally:
        connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = sqlite_url(Path(folder), "photos.sqlite3")
        accounts = create_load_accounts(url, UPLOADERS)
        server = Server(url, args.workers)
        try:
            clients = []
            for index, (username, _card) in enumerate(accounts):
                client = HttpClient(server.port, timeout=120)
                sign_in(client, username, PASSWORD)
                clients.append((client, 100_000 + index))
            workers = workers_of(server.process.pid)
            print(f"{len(workers)} workers; {UPLOADERS} uploads at once per kind of file")
            for kind, make in KINDS.items():
                data, mimetype = make()
                for pid in workers:
                    Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM
                before = {pid: status(pid)["VmRSS"] for pid in workers}
                cpu = {pid: cpu_seconds(pid) for pid in workers}
                results: list[int] = []
                started = time.perf_counter()
                threads = [
                    threading.Thread(
                        target=lambda c=c, n=n, d=data, m=mimetype, r=results: r.append(
                            upload(c, n, d, m)
                        )
                    )
                    for c, n in clients
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                elapsed = time.perf_counter() - started
                peak = {pid: status(pid)["VmHWM"] for pid in workers}
                time.sleep(1)
                after = {pid: status(pid)["VmRSS"] for pid in workers}
                spent = sum(cpu_seconds(pid) - cpu[pid] for pid in workers)
                print(
                    f"\n{kind}: {len(data) / 1024:.0f} KB; {results.count(1)} kept, "
                    f"{results.count(0)} refused with a message, "
                    f"{len(results) - results.count(1) - results.count(0)} other; "
                    f"{elapsed:.1f} s, {spent:.2f} s of CPU in the workers"
                )
                for pid in workers:
                    print(
                        f"  worker {pid}: {before[pid]} MB before, {peak[pid]} MB at the peak, "
                        f"{after[pid]} MB after"
                    )
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
