# SPDX-License-Identifier: BSD-3-Clause
"""Arrays the IOC core cannot read as they are, made readable.

The core copies numpy arrays and other buffers of native byte order straight into records.
For the rest of numpy's real number types it calls :func:`native` once per value.
"""
from __future__ import annotations

import numpy

__all__ = ["native"]


def native(obj: object) -> numpy.ndarray:
    """A native-byte-order copy of ``obj`` holding the same values.

    float16 widens to float32 (exact); big-endian (or little-endian on a big-endian machine)
    integers and floats are byte-swapped.  Raises TypeError for anything else (complex,
    structured, object arrays), whose values a record could not hold.
    """
    array = numpy.asarray(obj)
    dtype = array.dtype
    if dtype.kind == "f" and dtype.itemsize == 2:
        return array.astype(numpy.float32)
    if dtype.kind in "biuf" and not dtype.isnative:
        return array.astype(dtype.newbyteorder("="))
    raise TypeError(f"unsupported array element type {dtype} (integers, floats and bools only)")
