"""``kinto_server import --bucket B --collection C [FILE]``: records from JSON
lines (one record per line, as the API gives them in ``data``: ``id``
optional, ``last_modified`` ignored) stored in an existing collection of an
ini file's backends, through the storage layer.

- All or nothing: every line is checked (a JSON object, a valid id, no id
  twice, no id of a live record, the collection's JSON schema when schema
  validation is on) and the records are written in one transaction; the
  first bad line stops the import with its number, and nothing is stored.
- The records are new writes: each gets a fresh timestamp above the
  collection's, in the order of the file, so a syncing client's next
  ``_since`` poll gets them all. With the change stream plugin they are in
  its log too. They are not in the history plugin's entries.
- Progress goes to stderr (redrawn in place on a terminal, a line per
  100,000 records otherwise); the summary to stdout.

The transaction holds the collection's write lock (PostgreSQL) or the
database's (SQLite) until it commits: writes to them wait, or fail after
the backend's timeout, during an import.
"""

import os
import sys
import time

import ujson

from kinto_server.resources.tree import RECORD, is_valid_id
from kinto_server.storage import ObjectExistsError, ObjectNotFoundError
from kinto_server.storage.sql_common import chunks

STREAM_PLUGINS = ("kinto_server.plugins.stream",)
#: Records handed to the storage at a time (it writes hundreds per statement).
BATCH = 5_000
PROGRESS_LINES_EVERY = 100_000


class LineError(Exception):
    """A line that cannot be imported: its number and why."""

    def __init__(self, number, reason):
        super().__init__(f"line {number}: {reason}")


class Progress:
    """How far the import is, on stderr: redrawn on a terminal, a line now
    and then otherwise (logs, CI)."""

    def __init__(self, stream, total_bytes=None):
        self.stream, self.total_bytes = stream, total_bytes
        self.interactive = stream.isatty()
        self.started = time.monotonic()
        self.records = 0
        self._shown = 0.0

    def _line(self, read_bytes):
        elapsed = max(time.monotonic() - self.started, 1e-9)
        share = f" ({100 * read_bytes / self.total_bytes:.0f}%)" if self.total_bytes and read_bytes else ""
        return f"{self.records:,} records read{share}, {self.records / elapsed:,.0f}/s"

    def update(self, count, read_bytes=None):
        before, self.records = self.records, self.records + count
        if self.interactive:
            now = time.monotonic()
            if now - self._shown >= 0.2:
                self._shown = now
                self.stream.write("\r" + self._line(read_bytes) + "\x1b[K")
                self.stream.flush()
        elif before // PROGRESS_LINES_EVERY != self.records // PROGRESS_LINES_EVERY:
            self.stream.write(self._line(read_bytes) + "\n")
            self.stream.flush()

    def writing(self):
        if self.interactive:
            self.stream.write("\r" + self._line(None) + ", committing..." + "\x1b[K")
            self.stream.flush()

    def done(self):
        if self.interactive:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def parse_lines(lines, max_id_length, check, progress):
    """``(line number, record)`` of ``lines`` (bytes), checked; raises LineError."""
    seen = set()
    read_bytes = unreported = 0
    for number, line in enumerate(lines, start=1):
        read_bytes += len(line)
        if not line.strip():
            continue
        try:
            record = ujson.loads(line)
        except ValueError as failure:
            raise LineError(number, f"not JSON ({failure})") from None
        if not isinstance(record, dict):
            raise LineError(number, f"a record is a JSON object, not {type(record).__name__}")
        record.pop("last_modified", None)
        record_id = record.get("id")
        if record_id is None:
            record["id"] = record_id = RECORD.generate_id()
        elif not is_valid_id(record_id) or len(record_id) > max_id_length:
            raise LineError(number, f"invalid record id {record_id!r}")
        elif record_id in seen:
            raise LineError(number, f"record {record_id!r} is already on an earlier line")
        seen.add(record_id)
        if check is not None:
            check(number, record)
        unreported += 1
        if unreported == 1_000:
            progress.update(unreported, read_bytes)
            unreported = 0
        yield number, record
    progress.update(unreported, read_bytes)


def schema_check(collection, settings):
    """A function raising LineError for a record its collection's schema
    refuses (and marking the others, as the API does), or None."""
    if not settings["experimental_collection_schema_validation"] or not collection.get("schema"):
        return None
    from pyramid.httpexceptions import HTTPException

    from kinto_server.resources.validation import validate

    schema, stamp = collection["schema"], collection["last_modified"]

    def check(number, record):
        try:
            validate(schema, record)
        except HTTPException as refused:
            body = ujson.loads(refused.body)
            detail = (body.get("details") or [{}])[0]
            named = f"field {detail['name']}: " if detail.get("name") else ""
            raise LineError(number, f"{named}{detail.get('description') or body['message']}") from None
        record["schema"] = stamp

    return check


def store(storage, parent_id, numbered, log_changes):
    """Write the records; returns (count, first timestamp, last timestamp)."""
    count, first, last = 0, None, None
    for batch in chunks(numbered, BATCH):
        try:
            created = storage.create_many(
                resource_name=RECORD.name, parent_id=parent_id, objs=[record for _, record in batch]
            )
        except ObjectExistsError as exists:
            existing = exists.existing["id"]
            number = next(number for number, record in batch if record["id"] == existing)
            raise LineError(number, f"record {existing!r} is already stored in {parent_id}") from None
        if log_changes:
            storage.log_changes([("create", RECORD.name, parent_id, obj) for obj in created])
        count += len(created)
        first = created[0]["last_modified"] if first is None else first
        last = created[-1]["last_modified"]
    return count, first, last


def _open(path, error):
    if path == "-":
        return sys.stdin.buffer, None
    try:
        source = open(path, "rb")  # noqa: SIM115 (closed by run)
    except OSError as failure:
        raise error(f"Cannot read {path}: {failure.strerror}") from None
    return source, os.fstat(source.fileno()).st_size


def run(args, config, storage, error):
    """Import; ``storage`` is the ini's, ``error`` the exception class of a
    user mistake."""
    bucket_uri = f"/buckets/{args.bucket}"
    parent_id = f"{bucket_uri}/collections/{args.collection}"
    source, size = _open(args.file, error)
    progress = Progress(sys.stderr, size)
    started = time.monotonic()
    log_changes = bool(set(STREAM_PLUGINS) & set(config["includes"]))
    client = storage.client
    client.start_request(readonly=False)
    committed = False
    try:
        try:
            storage.get(resource_name="bucket", parent_id="", object_id=args.bucket)
            collection = storage.get(resource_name="collection", parent_id=bucket_uri, object_id=args.collection)
        except ObjectNotFoundError:
            raise error(
                f"There is no collection {parent_id} in {args.ini}: create it first "
                f"(PUT /v1{parent_id}, as a writer of its bucket)"
            ) from None
        numbered = parse_lines(source, config["max_id_length"], schema_check(collection, config), progress)
        count, first, last = store(storage, parent_id, numbered, log_changes)
        progress.writing()
        committed = True
    except LineError as bad:
        raise error(f"Nothing was imported: {bad}") from None
    finally:
        try:
            client.finish_request(commit=committed)
        finally:
            progress.done()
            if source is not sys.stdin.buffer:
                source.close()
    seconds = time.monotonic() - started
    if not count:
        print(f"Imported no record into {parent_id}: the input holds none.")
        return 0
    print(
        f"Imported {count:,} records into {parent_id} in {seconds:.1f} s ({count / seconds:,.0f} records/s), "
        f"timestamps {first} to {last}."
    )
    return 0
