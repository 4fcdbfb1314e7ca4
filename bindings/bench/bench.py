"""Cost of one FFI call from Python: get_case of a case with 20 visits, through the
generated bindings and the release library. Prints the median of repeated timings.
Run with bash bindings/bench/run.sh (it builds and generates first)."""

import asyncio
import statistics
import sys
import time

sys.path.insert(0, sys.argv[1])
import fieldcase_bindings as fc  # noqa: E402


def main():
    store = asyncio.run(fc.open_store(sys.argv[2], bytes([1] * 32)))
    case = sys.argv[3]
    assert len(store.get_case(case).visits) == 20
    for _ in range(200):
        store.get_case(case)
    rounds = []
    for _ in range(15):
        n = 500
        t = time.perf_counter()
        for _ in range(n):
            store.get_case(case)
        rounds.append((time.perf_counter() - t) / n)
    cheap = []
    for _ in range(15):
        n = 20000
        t = time.perf_counter()
        for _ in range(n):
            store.device_id()
        cheap.append((time.perf_counter() - t) / n)
    print(f"python: get_case (20 visits) median {statistics.median(rounds) * 1e6:.1f} us; "
          f"device_id (no work, FFI only) median {statistics.median(cheap) * 1e6:.2f} us")


main()
