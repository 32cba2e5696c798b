"""The clinic's web app (FastAPI, Jinja2 pages with autoescape): the JSON API and the pages that use it.

Access rules (:func:`create_app`):

- with a ``token``, every request must carry it (``Authorization: Bearer``, the ``X-Buttwink-Token`` header,
  the cookie a first visit with ``?token=`` sets, or ``?token=`` itself); otherwise 401. ``buttwink serve``
  always sets one when serving beyond loopback;
- without a token (loopback), only loopback host names are answered (against DNS rebinding);
- a POST from a page of another origin is refused (403), so no other web site can upload through a browser;
- request bodies stop at the upload limit (413) before they are read further;
- errors are one line (JSON ``{"detail": ...}`` for the API, a small page otherwise): never a stack trace.
"""

from __future__ import annotations

import contextlib
import logging
import math
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from buttwink.clinic.store import ClipRecord, JobStore, hold_data_folder
from buttwink.clinic.uploads import UploadError, Uploads, check_athlete
from buttwink.clinic.worker import Worker
from buttwink.progress import measure_changes

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).with_name("templates")
TOKEN_COOKIE = "buttwink_token"
#: Report files a clip's downloads may name (nothing else under the data folder is ever served).
DOWNLOADS = ("report.png", "evidence.png", "reps.csv", "frames.csv", "summary.json", "overlay.mp4",
             "keypoints.trc", "angles.mot")
#: reps.csv columns shown on the clip page and in the API.
REP_FIELDS = ("rep", "status", "reason", "verdict", "wink", "onset_depth_deg", "onset_hip_flexion_deg",
              "wink_deg", "departure_deg", "bottom_depth_deg", "confidence")
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]


@dataclass
class ClinicConfig:
    """How the server runs. ``token`` None: no token asked (loopback only)."""

    data_dir: Path
    token: str | None = None
    max_upload_bytes: int = 1024**3
    workers: int = 1
    models_dir: str | None = None
    settings: dict[str, object] = field(default_factory=dict)
    loopback_only: bool = True


class BodyTooLarge(StarletteHTTPException):  # a condition, not an error class name
    """A request body went past the limit (an HTTP 413, so the framework's form parsing passes it on)."""

    def __init__(self, message: str) -> None:
        super().__init__(413, message)


class BodyLimit:
    """ASGI middleware: refuse a body over ``limit`` bytes, by its Content-Length before reading, or when the
    bytes received pass the limit."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"file: too large (over {self.limit / 1024**2:.0f} MB, the server's upload limit)"
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await _send_error(scope, send, 413, message)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(message)
            return msg

        async def watched_send(msg: Message) -> None:
            nonlocal started
            started = started or msg["type"] == "http.response.start"
            await send(msg)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge:
            if not started:
                await _send_error(scope, send, 413, message)


async def _send_error(scope: Scope, send: Send, status: int, message: str) -> None:
    response = _error_response(scope.get("path", ""), status, message)
    await response({"type": "http", **scope}, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                          undefined=jinja2.StrictUndefined)


def _error_response(path: str, status: int, message: str) -> Response:
    if path.startswith("/api/"):
        return JSONResponse({"detail": message}, status_code=status)
    page = _ENV.get_template("error.html").render(status=status, message=message, title=f"error {status}",
                                                  token_asked=False)
    return HTMLResponse(page, status_code=status)


def _fmt(value: object, digits: int = 0, scale: float = 1.0, unit: str = "") -> str:
    """A number for a page ('–' for none)."""
    try:
        number = float(value) * scale  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(number):
        return "–"
    return f"{number:.{digits}f}{unit}"


_ENV.filters["num"] = _fmt
_ENV.filters["urlpart"] = lambda text: quote(str(text), safe="")


def _clean(value: object) -> object:
    """JSON-ready: NaN and infinities as None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def create_app(config: ClinicConfig) -> FastAPI:
    """The clinic app over ``config.data_dir``; its worker starts and stops with the app (lifespan)."""
    from buttwink.report import read_summary

    data_dir = Path(config.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    store = JobStore(data_dir / "clinic.sqlite3")
    uploads = Uploads(data_dir, store, config.max_upload_bytes)
    reports_dir = data_dir / "reports"
    worker = Worker(store, reports_dir, uploads.dir, config.settings, workers=config.workers,
                    models_dir=config.models_dir)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        with hold_data_folder(data_dir):
            uploads.clean()
            worker.start()
            try:
                yield
            finally:
                worker.stop()

    app = FastAPI(title="buttwink clinic", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store, app.state.worker, app.state.config = store, worker, config

    def page(name: str, status: int = 200, **context: object) -> HTMLResponse:
        return HTMLResponse(_ENV.get_template(name).render(**context), status_code=status)

    # -- errors: one line, never a trace ---------------------------------------------------------------------
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error_response(request.url.path, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for err in exc.errors():
            where = str(err.get("loc", ["", "?"])[-1])
            parts.append(f"{where}: {'missing' if err.get('type') == 'missing' else err.get('msg', 'invalid')}")
        return _error_response(request.url.path, 400, "; ".join(parts) or "invalid request")

    @app.exception_handler(UploadError)
    async def upload_error(request: Request, exc: UploadError) -> Response:
        return _error_response(request.url.path, exc.status, str(exc))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        log.error("%s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc, exc_info=exc)
        return _error_response(request.url.path, 500, f"internal error ({type(exc).__name__}); the server's "
                               "log has the details")

    app.add_middleware(BodyLimit, limit=config.max_upload_bytes + 1024**2)

    # -- access ------------------------------------------------------------------------------------------------
    @app.middleware("http")
    async def access(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        origin = request.headers.get("origin")
        if request.method not in ("GET", "HEAD", "OPTIONS") and origin and origin != "null":
            if urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower():
                return _error_response(request.url.path, 403, "cross-site request refused")
        elif request.method not in ("GET", "HEAD", "OPTIONS") and origin == "null":
            return _error_response(request.url.path, 403, "cross-site request refused")
        if config.token is None:
            return await call_next(request)
        given = request.query_params.get("token")
        auth = request.headers.get("authorization", "")
        candidates = [given, request.headers.get("x-buttwink-token"), request.cookies.get(TOKEN_COOKIE),
                      auth[7:].strip() if auth.lower().startswith("bearer ") else None]
        if not any(c and secrets.compare_digest(c.encode(), config.token.encode()) for c in candidates):
            return _error_response(request.url.path, 401, "access token missing or wrong: open the link "
                                   "buttwink serve printed (it carries ?token=...), or send "
                                   "'Authorization: Bearer TOKEN'")
        if given and request.method == "GET" and not request.url.path.startswith("/api/"):
            url = request.url.remove_query_params("token")
            target = "/" + url.path.lstrip("/")  # never "//host": the redirect stays on this server
            response: Response = RedirectResponse(target + (f"?{url.query}" if url.query else ""), status_code=303)
            response.set_cookie(TOKEN_COOKIE, config.token, httponly=True, samesite="strict")
            return response
        return await call_next(request)

    if config.token is None and config.loopback_only:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=LOOPBACK_HOSTS)

    # -- helpers ------------------------------------------------------------------------------------------------
    def clip_or_404(clip_id: str) -> ClipRecord:
        record = store.get(clip_id) if clip_id.isalnum() and len(clip_id) <= 32 else None
        if record is None:
            raise StarletteHTTPException(404, f"no clip {clip_id[:40]!r}")
        return record

    def report_dir(record: ClipRecord) -> Path:
        return reports_dir / record.id

    def clip_reps(record: ClipRecord) -> list[dict[str, object]]:
        import pandas as pd

        path = report_dir(record) / "reps.csv"
        if record.status != "done" or not path.is_file():
            return []
        try:
            table = pd.read_csv(path)
        except (OSError, ValueError):
            return []
        rows = []
        for _, row in table.iterrows():
            rows.append({k: _clean(row[k].item() if hasattr(row[k], "item") else row[k])
                         for k in REP_FIELDS if k in table.columns})
        return rows

    def clip_json(record: ClipRecord) -> dict[str, object]:
        data = record.public()
        base = f"/api/clips/{record.id}"
        data["reps"] = clip_reps(record)
        files = []
        if record.status == "done":
            summary = read_summary(report_dir(record)) or {}
            listed = summary.get("report_files")
            files = [f for f in DOWNLOADS if isinstance(listed, list) and f in listed]
            data["warnings"] = summary.get("warnings", [])
        data["files"] = {f: f"{base}/files/{f}" for f in files}
        data["report_png"] = f"{base}/report.png" if "report.png" in files else None
        data["page"] = f"/clips/{record.id}"
        return data

    def athlete_sessions(name: str):
        from buttwink.progress import SessionClip, build_sessions, parse_date
        from buttwink.report import is_complete

        records = store.for_athlete(name)
        if not records:
            raise StarletteHTTPException(404, f"no athlete {name[:80]!r}")
        done = [r for r in records if r.status == "done" and is_complete(report_dir(r))]
        sessions = build_sessions(SessionClip(name, parse_date(r.session_date), report_dir(r)) for r in done)
        clips_by_date: dict[str, list[ClipRecord]] = {}
        for r in records:
            clips_by_date.setdefault(r.session_date, []).append(r)
        return records, sessions, clips_by_date

    def sessions_json(name: str) -> dict[str, object]:
        records, sessions, clips_by_date = athlete_sessions(name)
        out = []
        for s in sessions:
            date = s.session_date.isoformat()
            row = {k: (None if v == "" else v) for k, v in s.as_row().items() if k != "athlete"}
            row["clip_ids"] = [r.id for r in clips_by_date.get(date, []) if r.status == "done"]
            out.append(row)
        pending = [r.id for r in records if r.status in ("queued", "analysing")]
        return {"athlete": name, "sessions": out, "pending": pending, "notes": measure_changes(sessions),
                "progress_png": f"/api/athletes/{quote(name, safe='')}/progress.png"}

    # -- API -------------------------------------------------------------------------------------------------
    @app.post("/api/clips", status_code=202)
    async def post_clip(file: UploadFile = File(...), athlete: str = Form(...),  # noqa: B008
                        session_date: str | None = Form(None)) -> JSONResponse:
        async def chunks() -> AsyncIterator[bytes]:
            while block := await file.read(1 << 20):
                yield block

        received = await uploads.receive(chunks(), file.filename, athlete, session_date)
        if not received.duplicate:
            worker.wake()
        body = {"id": received.record.id, "status": received.record.status, "duplicate": received.duplicate,
                "athlete": received.record.athlete, "session_date": received.record.session_date,
                "url": f"/api/clips/{received.record.id}"}
        return JSONResponse(body, status_code=200 if received.duplicate else 202)

    @app.get("/api/clips")
    async def list_clips() -> JSONResponse:
        return JSONResponse({"clips": [r.public() for r in store.all()], "counts": store.counts()})

    @app.get("/api/clips/{clip_id}")
    async def get_clip(clip_id: str) -> JSONResponse:
        return JSONResponse(clip_json(clip_or_404(clip_id)))

    @app.get("/api/clips/{clip_id}/report.png")
    async def get_report_png(clip_id: str) -> Response:
        return await get_file(clip_id, "report.png")

    @app.get("/api/clips/{clip_id}/files/{name}")
    async def get_file(clip_id: str, name: str) -> Response:
        record = clip_or_404(clip_id)
        if name not in DOWNLOADS:
            raise StarletteHTTPException(404, f"no such report file {name[:40]!r}")
        path = report_dir(record) / name
        if record.status != "done" or not path.is_file():
            raise StarletteHTTPException(404, f"{name}: not there (clip {record.status})")
        inline = name.endswith(".png")
        return FileResponse(path, filename=None if inline else f"{record.id}-{name}")

    @app.post("/api/clips/{clip_id}/overlay", status_code=202)
    async def ask_overlay(clip_id: str) -> JSONResponse:
        record = clip_or_404(clip_id)
        if record.overlay and record.status == "done":
            return JSONResponse({"id": record.id, "status": record.status}, status_code=200)
        if not store.requeue(record.id, overlay=True):
            raise StarletteHTTPException(409, f"clip is {record.status}: ask for the overlay when it is done")
        worker.wake()
        return JSONResponse({"id": record.id, "status": "queued"}, status_code=202)

    @app.get("/api/athletes")
    async def list_athletes() -> JSONResponse:
        return JSONResponse({"athletes": [{"athlete": a, "clips": n, "latest_session": d}
                                          for a, n, d in store.athletes()]})

    @app.get("/api/athletes/{name}")
    async def get_athlete(name: str) -> JSONResponse:
        return JSONResponse(sessions_json(name))

    @app.get("/api/athletes/{name}/progress.png")
    async def get_progress_png(name: str) -> Response:
        from starlette.concurrency import run_in_threadpool

        from buttwink.progress import progress_png

        _records, sessions, _ = athlete_sessions(name)
        png = await run_in_threadpool(progress_png, sessions, f"progress: {name}")
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})

    @app.get("/api/athletes/{name}/progress.csv")
    async def get_progress_csv(name: str) -> Response:
        from buttwink.progress import progress_csv_text

        _records, sessions, _ = athlete_sessions(name)
        return Response(progress_csv_text(sessions), media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="progress.csv"'})

    # -- pages -------------------------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse)
    async def upload_page() -> HTMLResponse:
        return page("upload.html", title="upload", clips=store.all(limit=50),
                    athletes=[a for a, _, _ in store.athletes()],
                    max_mb=config.max_upload_bytes // 1024**2)

    @app.get("/clips/{clip_id}", response_class=HTMLResponse)
    async def clip_page(clip_id: str) -> HTMLResponse:
        record = clip_or_404(clip_id)
        return page("clip.html", title=f"clip {record.original_name}", clip=record, data=clip_json(record))

    @app.get("/athletes", response_class=HTMLResponse)
    async def athletes_page() -> HTMLResponse:
        return page("athletes.html", title="athletes", athletes=store.athletes())

    @app.get("/athletes/{name}", response_class=HTMLResponse)
    async def athlete_page(name: str, a: str | None = None, b: str | None = None) -> HTMLResponse:
        name = check_athlete_or_404(name)
        records, sessions, clips_by_date = athlete_sessions(name)
        by_date = {s.session_date.isoformat(): s for s in sessions}
        compare = [by_date[d] for d in (a, b) if d in by_date] if a and b and a != b else []
        return page("athlete.html", title=f"athlete {name}", athlete=name, sessions=sessions,
                    clips_by_date=clips_by_date, compare=compare,
                    pending=[r for r in records if r.status in ("queued", "analysing")],
                    failed=[r for r in records if r.status == "failed"], measure_notes=measure_changes(sessions))

    def check_athlete_or_404(name: str) -> str:
        try:
            return check_athlete(name)
        except UploadError:
            raise StarletteHTTPException(404, f"no athlete {name[:80]!r}") from None

    return app
