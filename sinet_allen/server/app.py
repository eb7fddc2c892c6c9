"""The HTTP API and demo page of `allennlp sinet-serve` (FastAPI).

* `GET /health`: `{"status": "ok", "ctam": bool}`.
* `POST /predict[?attention=true]`: one of the `sinet` predictor's inputs as a JSON object, or a
  list of them; the answer is its result in the prediction format (a list for a list). With
  `attention=true` each result carries the attention maps.
* `GET /`: the page (page.html), which calls `/predict?attention=true`.

Errors answer `{"detail": message}`: 400 for a body that is not JSON or is nested too deeply,
403 for a `Host` or `Origin` the server does not answer to (access.py), 408 for a body that does
not arrive in time (the connection is then closed), 413 for a body, text, token count or batch
over the limits, 422 for a wrong shape or an input the predictor refuses (the message names the
item and field), 500 when the model fails on a request (the server goes on; the log has the
exception), 503 when the model's queue is full or the server is stopping. Concurrent requests
share forward passes (batcher.py).
"""
import asyncio
import json
import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Dict, Hashable, List, Optional, Sequence

from allennlp.data.tokenizers import PretrainedTransformerTokenizer
from allennlp.models.archival import Archive
from allennlp.predictors import Predictor
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.requests import ClientDisconnect

from sinet_allen.modules.cross_task_attention import CrossTaskAttention
from sinet_allen.predictors.sinet_predictor import MODEL_FAILED, UNREADABLE, SinetPredictor
from sinet_allen.server.access import HostAndOriginCheck
from sinet_allen.server.batcher import Batcher, Busy, ModelFailure
from sinet_allen.server.limits import LOOPBACK_NAMES, Batching, Limits

logger = logging.getLogger(__name__)

PAGE = Path(__file__).with_name("page.html")
# The predictor's inputs are at most 4 levels deep (a list of objects of lists of token lists);
# the bound leaves room for the keys copied to the output, and keeps the parser's and the answer's
# recursion far from Python's limit.
MAX_JSON_DEPTH = 32


class RequestError(Exception):
    def __init__(self, status: int, message: str, headers: Optional[Dict[str, str]] = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers


def create_app(predictor: SinetPredictor, tokenizer: PretrainedTransformerTokenizer, limits: Limits = Limits(),
               batching: Batching = Batching(), allowed_hosts: Sequence[str] = LOOPBACK_NAMES) -> FastAPI:
    """The app serving `predictor`, whose reader splits words with `tokenizer` (the wordpieces of
    a batch are counted with it). `allowed_hosts`: the host names requests may name (access.py)."""
    batcher = Batcher(lambda inputs, attention: _predict(predictor, inputs, attention, batching.forward_pass_size),
                      batching)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        batcher.start()
        yield
        await batcher.stop()  # after the server's last connection closed: drains what still waits

    app = FastAPI(title="SINET", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.add_middleware(HostAndOriginCheck, allowed_hosts=allowed_hosts)
    app.state.batcher = batcher
    has_ctam = _has_ctam(predictor)

    @app.exception_handler(RequestError)
    async def refuse(request: Request, error: RequestError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=error.status, headers=error.headers)

    @app.exception_handler(ClientDisconnect)
    async def gone(request: Request, error: ClientDisconnect) -> Response:
        client = f"{request.client.host}:{request.client.port}" if request.client else "a client"
        logger.info("%s disconnected before its request ended", client)
        return Response(status_code=400)  # nobody reads it

    @app.exception_handler(Exception)
    async def fail(request: Request, error: Exception) -> JSONResponse:
        # The exception's text may hold the server's paths or data: it goes to the log only.
        return JSONResponse({"detail": "the server failed on this request; its log has the details"}, status_code=500)

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok", "ctam": has_ctam}

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        return PAGE.read_text(encoding="utf-8")

    @app.post("/predict")
    async def predict(request: Request, attention: bool = False) -> JSONResponse:
        body = await _body(request, limits)
        items = _inputs(body, limits)
        wordpieces = sum(_wordpieces(tokenizer, item) for item in items)
        try:
            results = await batcher.predict(items, attention, wordpieces)
        except Busy as error:
            raise RequestError(503, str(error), headers={"Retry-After": "1"})
        except ModelFailure:
            raise RequestError(500, "the model failed on this request; the server's log has the details, "
                                    "and the server goes on")
        for index, result in enumerate(results):
            if "error" in result and _internal(result["error"]):
                logger.error("item %d of a request: %s", index, result["error"])
                raise RequestError(500, "the model failed on this request; the server's log has the details, "
                                        "and the server goes on")
            if "error" in result:
                raise RequestError(422, f"{_where(body, index)}{result['error']}")
        return JSONResponse(results if isinstance(body, list) else results[0])

    return app


def app_for_archive(archive: Archive, limits: Limits = Limits(), batching: Batching = Batching(),
                    allowed_hosts: Sequence[str] = LOOPBACK_NAMES) -> FastAPI:
    """`create_app` for a loaded model archive (its `sinet` predictor and its reader's tokenizer)."""
    predictor = Predictor.from_archive(archive, "sinet")
    return create_app(predictor, archive.dataset_reader.tokenizer, limits, batching, allowed_hosts)


def _predict(predictor: SinetPredictor, items: List[dict], attention: Hashable, pass_size: int) -> List[dict]:
    """In the model thread (batcher.py), never twice at once: the attention flag is the model's."""
    predictor.attention = attention
    return predictor.predict_batch_json(items, pass_size)


def _has_ctam(predictor: SinetPredictor) -> bool:
    return any(isinstance(module, CrossTaskAttention) for module in predictor.model.modules())


async def _body(request: Request, limits: Limits) -> Any:
    """The request's JSON body, read within `limits.body_timeout` seconds."""
    try:
        async with asyncio.timeout(limits.body_timeout):
            body = await _read(request, limits.max_request_bytes)
    except TimeoutError:
        # uvicorn has no timeout of its own for a request's body: a client that stalls would hold
        # its connection and this task forever. The connection is closed after the answer.
        raise RequestError(408, f"the request body did not arrive within {limits.body_timeout:g} s",
                           headers={"Connection": "close"}) from None
    return _parse(body)


async def _read(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise RequestError(413, f"the request body has {declared} bytes, more than the limit of {max_bytes}")
    body = bytearray()
    async for chunk in request.stream():  # a body without a length is counted as it arrives
        body += chunk
        if len(body) > max_bytes:
            raise RequestError(413, f"the request body is longer than the limit of {max_bytes} bytes")
    return bytes(body)


def _parse(body: bytes) -> Any:
    too_deep = RequestError(400, f"the request body is nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        value = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RequestError(400, f"the request body is not JSON: {error}") from None
    except RecursionError:  # nested beyond the parser's reach
        raise too_deep from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise too_deep
    return value


def _depth(value: Any) -> int:
    """How deep lists and objects nest in `value` (counted without recursion, up to one past the limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack and deepest <= MAX_JSON_DEPTH:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


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
        tokens = len(_words(item))
        if tokens > limits.max_tokens:
            raise RequestError(413, f"{where}{tokens} tokens, more than the limit of {limits.max_tokens}")
    return items


def _words(item: dict) -> List[str]:
    """The given tokens of an input (`tokens`, or all `sentences`); none for raw text or a wrong shape."""
    if isinstance(item.get("tokens"), list):
        return [token for token in item["tokens"] if isinstance(token, str)]
    sentences = item.get("sentences")
    if isinstance(sentences, list):
        return [token for sentence in sentences if isinstance(sentence, list)
                for token in sentence if isinstance(token, str)]
    return []


def _wordpieces(tokenizer: PretrainedTransformerTokenizer, item: dict) -> int:
    """About how many wordpieces the input's text makes (what a batch's budget counts)."""
    text = next((item[key] for key in ("sentence", "document") if isinstance(item.get(key), str)), None)
    text = " ".join(_words(item)) if text is None else text
    return len(tokenizer.tokenizer(text, add_special_tokens=False)["input_ids"])


def _where(body: Any, index: int) -> str:
    return f"item {index}: " if isinstance(body, list) else ""


def _internal(message: str) -> bool:
    """An error record of the reader's or the model's exception, not of the input's form."""
    return any(kind in message for kind in (UNREADABLE, MODEL_FAILED))
