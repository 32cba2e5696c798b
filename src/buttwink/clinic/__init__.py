"""The clinic server (``buttwink serve``): upload clips, follow their analysis, and see each athlete's
progress over sessions.

One module per concern:

- :mod:`buttwink.clinic.store`: the SQLite job store (WAL), the only place job state lives;
- :mod:`buttwink.clinic.uploads`: receiving an upload (size limit, temporary name, decoding check, hash);
- :mod:`buttwink.clinic.worker`: runs queued jobs through the batch machinery (:func:`buttwink.batch.process_clip`)
  in a process pool, and picks up jobs a crash interrupted;
- :mod:`buttwink.clinic.app`: the FastAPI app (JSON API and Jinja2 pages) and its access rules.

Everything lives under one data folder: ``clinic.sqlite3``, ``uploads/<id>.<ext>``, ``reports/<id>/`` and
``tmp/`` (uploads being received). Stored files get server-chosen names (the clip's id); the user's file
name and the athlete's name are kept in the database only.
"""
