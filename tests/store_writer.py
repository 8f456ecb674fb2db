"""A station process for the store tests: records N inspections (0: until killed) into a lot.

usage: store_writer.py URL DATA_DIR STATION LOT N [START_FILE]
Prints each stored id on its own line as soon as record_inspection returns. With START_FILE it
waits until that file exists, so that several writers start at the same moment.
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

from storeutil import record

from qcstation.store import Store


def main() -> None:
    url, data_dir, station, lot_name, n = sys.argv[1:6]
    start = Path(sys.argv[6]) if len(sys.argv) > 6 else None
    while start is not None and not start.exists():
        time.sleep(0.005)
    store = Store.open(None if url == "-" else url, Path(data_dir), reserve_bytes=0)
    lot = store.open_lot(lot_name, station=station)
    count = itertools.count() if int(n) == 0 else range(int(n))
    for i in count:
        verdict = ("pass", "fail", "error")[i % 3]
        rid = record(store, lot.id, verdict, station=station, seed=i, size=(320, 240))
        print(rid, flush=True)
    store.close()


if __name__ == "__main__":
    main()
