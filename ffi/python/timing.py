"""Times 1 KiB seal_to_user + receive through the Python bindings and prints the ratio to the
native Rust loop (examples/seal_open_native.rs), whose output line is passed as argv[1];
argv[2] is the iteration count, argv[3] (optional, default "dev") the profile both were built in.
A measurement, not a test: nothing is asserted about speed."""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from letterseal import Account, Address, Event, Relay  # noqa: E402,F401

NOW = 1_800_000_000


def main():
    native_line, iterations = sys.argv[1], int(sys.argv[2])
    profile = sys.argv[3] if len(sys.argv) > 3 else "dev"
    native = float(native_line.strip().split("=")[1])
    alice = Account.create_primary(NOW, b"alice", 1)
    bob = Account.create_primary(NOW, b"bob", 1)
    for upload in bob.uploads(NOW):
        alice.receive(NOW, upload)
    for upload in alice.uploads(NOW):
        bob.receive(NOW, upload)
    plaintext = b"\x5a" * 1024

    def round_trip():
        for out in alice.seal_to_user(NOW, b"bob", 0, plaintext):
            event = bob.receive(NOW, out.envelope)
            assert len(event.plaintext) == 1024

    for _ in range(10):
        round_trip()
    start = time.perf_counter()
    for _ in range(iterations):
        round_trip()
    python = (time.perf_counter() - start) * 1e6 / iterations
    print(f"1 KiB seal_to_user+receive, {iterations} iterations, {profile} profile:")
    print(f"  native Rust: {native:.1f} us   Python bindings: {python:.1f} us   "
          f"ratio {python / native:.2f}")


if __name__ == "__main__":
    main()
