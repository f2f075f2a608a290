"""Has anything committed to a SQLite database in WAL mode? Answered from
the WAL-index header in ``<file>-shm``, read through a read-only memory
map: no SQLite call, no system call, and the GIL is kept.

Why: Python's sqlite3 module releases the GIL around every SQLite call.
When a waitress process's other threads are busy, taking it back costs a
GIL hand-off each time, and that dominates a request whose answer is
cached: one ``PRAGMA data_version`` per GET of one record held a 4-thread
server to 0.35x the memory backend's req/s over HTTP, against ~0.9x without
it (bench/run.py --backend sqlite --only "GET one record").

The header (SQLite's "WAL-index format" document, unix VFS, stable since
3.7.0 because processes running different SQLite versions share it): two
copies of a 48-byte block in native byte order: iVersion (3007000), unused,
iChange (bumped by every commit), isInit, bigEndCksum, szPage, mxFrame,
nPage, the frame checksum, the salts, the header's checksum. A writer
updates the second copy, then the first; a reader that copies the first,
then the second, and finds them equal, holds a consistent header (SQLite's
own readers do the same). Any commit, by any connection of any process,
changes it before its COMMIT returns; a rollback does not.

Whenever the header cannot be trusted (no ``-shm`` file, copies that
differ while a commit is under way, an unknown version, a header not yet
initialised) ``stamp()`` returns None and the caller asks SQLite instead.
"""

import mmap
import os
import struct

VERSION = 3007000
BLOCK = 48  # bytes of one copy of the header


def stamp_of(header):
    """The header's first copy if the two copies agree and it is one we
    know, else None."""
    first, second = header[:BLOCK], header[BLOCK : 2 * BLOCK]
    if len(first) < BLOCK or first != second:
        return None
    (version,) = struct.unpack_from("=I", first, 0)
    if version != VERSION or not first[12]:  # isInit
        return None
    return first


class WalIndex:
    """A read-only map of ``<path>-shm``, made once SQLite has created it.

    The map never outlives the connections that keep the file in use:
    SQLite truncates ``-shm`` only when the first connection of all opens
    it, so a map made while ours are open stays valid until ``close()``.
    """

    def __init__(self, path):
        self.path = f"{path}-shm"
        self.map = None

    def open(self):
        """Map the file if SQLite has made it; False if not (yet)."""
        if self.map is not None:
            return True
        try:
            descriptor = os.open(self.path, os.O_RDONLY)
        except OSError:
            return False
        try:
            if os.fstat(descriptor).st_size < 2 * BLOCK:
                return False
            self.map = mmap.mmap(descriptor, 2 * BLOCK, access=mmap.ACCESS_READ)
            return True
        except OSError:
            return False
        finally:
            os.close(descriptor)  # the map keeps its own reference to the file

    def stamp(self):
        """Bytes that change with every commit, or None: ask SQLite."""
        if self.map is None:
            return None
        return stamp_of(self.map[: 2 * BLOCK])

    def close(self):
        if self.map is not None:
            self.map.close()
            self.map = None
