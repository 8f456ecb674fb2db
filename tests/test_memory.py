"""qcstation.memory: with it, a second frame-sized buffer reuses the first one's pages instead
of faulting in fresh (kernel-zeroed) ones. Measured in fresh processes by their minor page
faults (getrusage), the kernel's own count."""

import subprocess
import sys

import pytest

PROBE = """
import resource, sys
import numpy as np
from qcstation.memory import keep_large_buffers
if sys.argv[1] == "keep":
    assert keep_large_buffers()
def faults_of_one_frame():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    a = np.ones((3000, 4000), np.int32)  # 48 MB, like a 12 MP frame's integral image
    del a
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
faults_of_one_frame()
print(min(faults_of_one_frame() for _ in range(3)))
"""


def faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True,
                         check=True)
    return int(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_large_buffers_are_reused_not_faulted_in_again():
    # given fresh processes, one with the allocator set as the qcstation command sets it
    default, kept = faults("default"), faults("keep")
    # then frame after frame the default faults in the buffer's pages again, the kept not
    assert default >= 20  # 48 MB: 24 huge pages, or 12,000 small ones
    assert kept <= 5
