"""The HTTP API and demo page of `allennlp sinet-serve` (FastAPI).

* `GET /health`: `{"status": "ok", "ctam": bool}`.
* `POST /predict[?attention=true]`: one of the `sinet` predictor's inputs as a JSON object, or a
  list of them; the answer is its result in the prediction format (a list for a list). With
  `attention=true` each result carries the attention maps.
* `GET /`: the page (page.html), which calls `/predict?attention=true`.

Errors answer `{"detail": message}`: 413 for a body, text, token count or batch over the limits,
400 for a body that is not JSON, 422 for a wrong shape or an input the predictor refuses (the
message names the item and field), 500 when the model fails on a request (the server goes on).
Predictions run one at a time on the one model, each in a worker thread that waits for the
model's lock, so the event loop goes on accepting (and refusing) requests meanwhile.
"""
import json
import logging
import threading
from pathlib import Path
from typing import Any, List

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from sinet_allen.modules.cross_task_attention import CrossTaskAttention
from sinet_allen.predictors.sinet_predictor import SinetPredictor
from sinet_allen.server.limits import Limits

logger = logging.getLogger(__name__)

PAGE = Path(__file__).with_name("page.html")


class RequestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def create_app(predictor: SinetPredictor, limits: Limits = Limits()) -> FastAPI:
    app = FastAPI(title="SINET", docs_url=None, redoc_url=None, openapi_url=None)
    one_at_a_time = threading.Lock()
    has_ctam = _has_ctam(predictor)

    @app.exception_handler(RequestError)
    async def refuse(request: Request, error: RequestError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=error.status)

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok", "ctam": has_ctam}

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        return PAGE.read_text(encoding="utf-8")

    @app.post("/predict")
    async def predict(request: Request, attention: bool = False) -> Any:
        body = await _body(request, limits.max_request_bytes)
        items = _inputs(body, limits)
        try:
            results = await run_in_threadpool(_predict, predictor, items, attention, one_at_a_time)
        except Exception as error:  # one failed request must not stop the server
            logger.exception("prediction failed")
            raise RequestError(500, f"the model failed on this request: {type(error).__name__}: {error}")
        for index, result in enumerate(results):
            if "error" in result:
                raise RequestError(422, f"{_where(body, index)}{result['error']}")
        return results if isinstance(body, list) else results[0]

    return app


def _predict(predictor: SinetPredictor, items: List[dict], attention: bool, lock: threading.Lock) -> List[dict]:
    """In a worker thread, so the server keeps accepting requests; the lock queues them for the model."""
    with lock:
        predictor.attention = attention
        return predictor.predict_batch_json(items)


def _has_ctam(predictor: SinetPredictor) -> bool:
    return any(isinstance(module, CrossTaskAttention) for module in predictor.model.modules())


async def _body(request: Request, max_bytes: int) -> Any:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise RequestError(413, f"the request body has {declared} bytes, more than the limit of {max_bytes}")
    body = bytearray()
    async for chunk in request.stream():  # a body without a length is counted as it arrives
        body += chunk
        if len(body) > max_bytes:
            raise RequestError(413, f"the request body is longer than the limit of {max_bytes} bytes")
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RequestError(400, f"the request body is not JSON: {error}") from None


def _inputs(body: Any, limits: Limits) -> List[dict]:
    items = body if isinstance(body, list) else [body]
    if isinstance(body, list) and not body:
        raise RequestError(422, "an empty list: nothing to predict")
    if len(items) > limits.max_batch:
        raise RequestError(413, f"{len(items)} inputs in one request, more than the limit of {limits.max_batch}")
    for index, item in enumerate(items):
        where = _where(body, index)
        if not isinstance(item, dict):
            raise RequestError(422, f"{where}expected a JSON object with 'sentence', 'document', 'tokens' or "
                                    f"'sentences', got {type(item).__name__}")
        for key in ("sentence", "document"):
            if isinstance(item.get(key), str) and len(item[key]) > limits.max_text_chars:
                raise RequestError(413, f"{where}'{key}' has {len(item[key])} characters, more than the limit "
                                        f"of {limits.max_text_chars}")
        tokens = _token_count(item)
        if tokens > limits.max_tokens:
            raise RequestError(413, f"{where}{tokens} tokens, more than the limit of {limits.max_tokens}")
    return items


def _token_count(item: dict) -> int:
    if isinstance(item.get("tokens"), list):
        return len(item["tokens"])
    sentences = item.get("sentences")
    if isinstance(sentences, list):
        return sum(len(sentence) for sentence in sentences if isinstance(sentence, list))
    return 0


def _where(body: Any, index: int) -> str:
    return f"item {index}: " if isinstance(body, list) else ""
