"""Run in a subprocess by test_crash.py: broadcast COUNT messages with idempotency keys
(so a rerun resubmits only what is missing), print each id once stored, then deliver
everything and print DONE. The test kills it with SIGKILL at random points."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from config import Home, load_settings
from messaging.runtime import open_runtime


async def main(root: Path, count: int) -> None:
    home = Home(root)
    async with open_runtime(home, load_settings(home)) as rt:
        for number in range(count):
            submission = await rt.service.broadcast(f"message {number}", key=f"bulk-{number}")
            print(f"stored {submission.message.id}", flush=True)
        print("submitted", flush=True)
        while await rt.store.pending():
            await asyncio.sleep(0.01)
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
