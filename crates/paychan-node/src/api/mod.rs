//! The node's HTTP API, for the backend of the service it runs: JSON over HTTP, and an event
//! stream (Server-Sent Events) that reports each payment as it becomes final, so a backend
//! can grant access per payment. Every request carries the node's secret token
//! (`Authorization: Bearer …`); every error is a 4xx/5xx with one readable line. The routes
//! are [`ROUTES`], documented in `docs/openapi.json` (a test keeps the two equal).

pub mod token;
pub mod wire;

use std::{
    convert::Infallible,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use axum::{
    extract::{
        rejection::{JsonRejection, QueryRejection},
        DefaultBodyLimit, Path, Query, Request, State,
    },
    http::{header, StatusCode},
    middleware::{self, Next},
    response::{
        sse::{Event as SseEvent, KeepAlive, Sse},
        IntoResponse, Response,
    },
    routing::{get, post},
    Json, Router,
};
use futures_util::{stream, Stream, StreamExt};
use paychan_interface::{channel::Party, Address};
use tokio::sync::{broadcast, Semaphore};

use crate::{
    engine::Event,
    node::{hex, payment_id, NodeError, NodeEvent, NodeHandle},
};
use wire::*;

/// Every route: (method, path). `docs/openapi.json` documents exactly these.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/node"),
    ("GET", "/v1/channels"),
    ("GET", "/v1/channels/{channel}"),
    ("POST", "/v1/channels/{channel}/pay"),
    ("POST", "/v1/channels/{channel}/close"),
    ("POST", "/v1/channels/{channel}/settle"),
    ("GET", "/v1/channels/{channel}/history"),
    ("GET", "/v1/events"),
];

/// Requests served at once; beyond this the API answers 503 at once rather than queue.
pub const MAX_CONCURRENT_REQUESTS: usize = 256;
/// Event streams open at once.
pub const MAX_EVENT_STREAMS: usize = 64;
/// A request body larger than this is refused (413): every body here is a few fields.
const MAX_BODY: usize = 16 * 1024;
/// How long a pay or close waits by default.
const DEFAULT_PATIENCE: Duration = Duration::from_secs(10);
/// Payments one pay request makes at most.
pub const MAX_PAYMENTS_PER_REQUEST: u64 = 100_000;
/// Receipts a history request returns at most.
pub const MAX_HISTORY: usize = 10_000;

#[derive(Clone)]
struct Api {
    node: NodeHandle,
    token: Arc<str>,
    requests: Arc<Semaphore>,
    streams: Arc<AtomicUsize>,
}

/// The API over `node`, accepting requests that carry `token`.
pub fn router(node: NodeHandle, token: String) -> Router {
    let api = Api {
        node,
        token: token.into(),
        requests: Arc::new(Semaphore::new(MAX_CONCURRENT_REQUESTS)),
        streams: Arc::new(AtomicUsize::new(0)),
    };
    Router::new()
        .route("/v1/node", get(node_info))
        .route("/v1/channels", get(channels))
        .route("/v1/channels/{channel}", get(channel))
        .route("/v1/channels/{channel}/pay", post(pay))
        .route("/v1/channels/{channel}/close", post(close))
        .route("/v1/channels/{channel}/settle", post(settle))
        .route("/v1/channels/{channel}/history", get(history))
        .route("/v1/events", get(events))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no such route (see docs/openapi.json)",
            )
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "this route does not take that method (see docs/openapi.json)",
            )
        })
        .layer(middleware::from_fn_with_state(api.clone(), guard))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(api)
}

/// Serves the API on `listener` until the process ends.
pub async fn serve(
    listener: tokio::net::TcpListener,
    node: NodeHandle,
    token: String,
) -> std::io::Result<()> {
    axum::serve(listener, router(node, token)).await
}

/// An error answer: a status and one line.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self(status, message.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let line = self.1.lines().collect::<Vec<_>>().join(" ");
        (self.0, Json(ErrorBody { error: line })).into_response()
    }
}

impl From<NodeError> for ApiError {
    fn from(error: NodeError) -> Self {
        let status = match &error {
            NodeError::UnknownChannel(_) => StatusCode::NOT_FOUND,
            NodeError::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            NodeError::ChannelStopped(_) | NodeError::Dropped { .. } => StatusCode::CONFLICT,
            NodeError::NotFinal { .. } => StatusCode::GATEWAY_TIMEOUT,
            NodeError::Chain(_) => StatusCode::BAD_GATEWAY,
            NodeError::Stopped(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        Self(status, error.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        Self(StatusCode::BAD_REQUEST, rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self(StatusCode::BAD_REQUEST, rejection.body_text())
    }
}

/// Refuses a request without the token (401), and any beyond the concurrency bound (503).
async fn guard(State(api): State<Api>, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match given {
        None => {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing token: send `Authorization: Bearer <the node's API token>`",
            )
            .into_response()
        }
        Some(given) if !token::matches(given, &api.token) => {
            return ApiError::new(StatusCode::UNAUTHORIZED, "wrong token").into_response()
        }
        Some(_) => {}
    }
    let Ok(_permit) = api.requests.try_acquire() else {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the node is busy: try again",
        )
        .into_response();
    };
    next.run(request).await
}

fn address_of(text: &str) -> Result<Address, ApiError> {
    text.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("not a channel address: {text}"),
        )
    })
}

fn patience(timeout_ms: Option<u64>) -> Duration {
    timeout_ms.map_or(DEFAULT_PATIENCE, Duration::from_millis)
}

fn side(party: Party) -> String {
    match party {
        Party::A => "a".into(),
        Party::B => "b".into(),
    }
}

async fn node_info(State(api): State<Api>) -> Json<NodeInfo> {
    Json(NodeInfo {
        wallet: api.node.wallet().to_string(),
        signer: api.node.signer().to_string(),
        channels: api.node.running(),
    })
}

async fn info_of(node: &NodeHandle, channel: Address) -> Result<ChannelInfo, ApiError> {
    let entry = node.channel(&channel)?;
    let status = node.status(&channel).await?;
    Ok(ChannelInfo {
        channel: channel.to_string(),
        me: side(entry.me),
        peer: entry.peer.to_string(),
        connected: status.connected,
        seq: status.newest.seq,
        balance_a: status.newest.balance_a,
        balance_b: status.newest.balance_b,
        co_signed_seq: status.co_signed.map(|c| c.state.seq),
        queued: status.queued,
        closing: status.closing.is_some(),
        mint: entry.address.token.map(|t| t.mint.to_string()),
        decimals: entry.address.token.map_or(9, |t| t.decimals),
    })
}

async fn channels(State(api): State<Api>) -> Result<Json<Vec<ChannelInfo>>, ApiError> {
    let mut all = Vec::new();
    for (channel, _) in api.node.channels() {
        match info_of(&api.node, channel).await {
            Ok(info) => all.push(info),
            // It ended between the listing and the question: it is no longer running.
            Err(ApiError(StatusCode::NOT_FOUND | StatusCode::CONFLICT, _)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Json(all))
}

async fn channel(
    State(api): State<Api>,
    Path(channel): Path<String>,
) -> Result<Json<ChannelInfo>, ApiError> {
    Ok(Json(info_of(&api.node, address_of(&channel)?).await?))
}

async fn pay(
    State(api): State<Api>,
    Path(channel): Path<String>,
    body: Result<Json<PayRequest>, JsonRejection>,
) -> Result<Json<Paid>, ApiError> {
    let channel = address_of(&channel)?;
    let Json(request) = body?;
    if request.amount == 0 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "amount must be at least 1 lamport",
        ));
    }
    let count = request.count.unwrap_or(1);
    if !(1..=MAX_PAYMENTS_PER_REQUEST).contains(&count) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("count must be 1 to {MAX_PAYMENTS_PER_REQUEST}"),
        ));
    }
    let patience = patience(request.timeout_ms);
    let paid = api
        .node
        .pay(&channel, request.amount, count, patience, |_, _| {})
        .await?;
    Ok(Json(Paid {
        batch: hex(&paid.batch),
        first_id: hex(&payment_id(paid.batch, 0)),
        count: paid.count,
        amount: paid.amount,
        seq: paid.seq,
        balance_a: paid.balance_a,
        balance_b: paid.balance_b,
    }))
}

async fn close(
    State(api): State<Api>,
    Path(channel): Path<String>,
    body: Result<Json<CloseRequest>, JsonRejection>,
) -> Result<Json<Closed>, ApiError> {
    let channel = address_of(&channel)?;
    let Json(request) = body?;
    let closed = api
        .node
        .close(&channel, request.unilateral, patience(request.timeout_ms))
        .await?;
    Ok(Json(Closed {
        cooperative: closed.cooperative,
        seq: closed.terms.seq,
        balance_a: closed.terms.balance_a,
        balance_b: closed.terms.balance_b,
    }))
}

async fn settle(
    State(api): State<Api>,
    Path(channel): Path<String>,
) -> Result<Json<Settled>, ApiError> {
    let landed = api.node.settle(&address_of(&channel)?).await?;
    Ok(Json(Settled { landed }))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    from: Option<u64>,
    limit: Option<usize>,
}

async fn history(
    State(api): State<Api>,
    Path(channel): Path<String>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<Vec<Receipt>>, ApiError> {
    let channel = address_of(&channel)?;
    let Query(query) = query?;
    let limit = query.limit.unwrap_or(100);
    if limit > MAX_HISTORY {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("limit {limit} is above the maximum of {MAX_HISTORY}"),
        ));
    }
    let entries = api
        .node
        .history(&channel, query.from.unwrap_or(0), limit)
        .await?;
    Ok(Json(entries.iter().map(Receipt::from).collect()))
}

/// Holds one of [`MAX_EVENT_STREAMS`] slots while a stream is open.
struct StreamSlot(Arc<AtomicUsize>);

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn events(
    State(api): State<Api>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    if api.streams.fetch_add(1, Ordering::Relaxed) >= MAX_EVENT_STREAMS {
        api.streams.fetch_sub(1, Ordering::Relaxed);
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{MAX_EVENT_STREAMS} event streams are open already"),
        ));
    }
    let slot = StreamSlot(Arc::clone(&api.streams));
    let received = api.node.subscribe();
    let bodies = stream::unfold((received, slot), |(mut received, slot)| async move {
        loop {
            match received.recv().await {
                Ok(event) => {
                    let bodies = bodies_of(event);
                    if !bodies.is_empty() {
                        return Some((bodies, (received, slot)));
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    return Some((vec![EventBody::Lagged { missed }], (received, slot)))
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let events = bodies.flat_map(|bodies| {
        stream::iter(bodies.into_iter().map(|body| {
            let json = serde_json::to_string(&body).unwrap_or_default();
            Ok(SseEvent::default().data(json))
        }))
    });
    // A first line at once: a client knows it is subscribed before anything happens.
    let hello = stream::once(async { Ok(SseEvent::default().comment("paychan events")) });
    let events = hello.chain(events);
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// What the stream shows of a node event: one body per payment.
fn bodies_of(event: NodeEvent) -> Vec<EventBody> {
    match event {
        NodeEvent::Started { channel, me } => vec![EventBody::ChannelStarted {
            channel: channel.to_string(),
            me: side(me),
        }],
        NodeEvent::Refused { channel, reason } => vec![EventBody::ChannelRefused {
            channel: channel.to_string(),
            reason,
        }],
        NodeEvent::Ended { channel, reason } => vec![EventBody::ChannelEnded {
            channel: channel.to_string(),
            reason,
        }],
        NodeEvent::Notice { .. } => vec![],
        NodeEvent::Channel { channel, event } => {
            let channel = channel.to_string();
            match event {
                Event::Received { seq, payments } => payments
                    .iter()
                    .map(|p| EventBody::PaymentReceived {
                        channel: channel.clone(),
                        id: hex(&p.id),
                        amount: p.amount,
                        seq,
                    })
                    .collect(),
                Event::Paid { seq, payments } => payments
                    .iter()
                    .map(|p| EventBody::PaymentSent {
                        channel: channel.clone(),
                        id: hex(&p.id),
                        amount: p.amount,
                        seq,
                    })
                    .collect(),
                Event::Dropped { payments, reason } => payments
                    .iter()
                    .map(|p| EventBody::PaymentDropped {
                        channel: channel.clone(),
                        id: hex(&p.id),
                        amount: p.amount,
                        reason: format!("{reason:?}"),
                    })
                    .collect(),
                Event::CloseAgreed(terms) => vec![EventBody::CloseAgreed {
                    channel,
                    seq: terms.seq,
                    balance_a: terms.balance_a,
                    balance_b: terms.balance_b,
                }],
                _ => vec![],
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn document() -> serde_json::Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
        let text = std::fs::read_to_string(path).expect("docs/openapi.json");
        serde_json::from_str(&text).expect("the OpenAPI document is JSON")
    }

    #[test]
    fn the_openapi_document_lists_exactly_the_routes() {
        let document = document();
        let mut documented = BTreeSet::new();
        for (path, operations) in document["paths"].as_object().expect("paths") {
            for method in operations.as_object().expect("operations").keys() {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
        let served: BTreeSet<_> = ROUTES
            .iter()
            .map(|(method, path)| (method.to_string(), path.to_string()))
            .collect();
        assert_eq!(documented, served);
    }

    #[test]
    fn the_openapi_document_lists_every_event_type() {
        let document = document();
        let listed: BTreeSet<String> = document["components"]["schemas"]["Event"]["properties"]
            ["type"]["enum"]
            .as_array()
            .expect("event types")
            .iter()
            .map(|t| t.as_str().expect("a name").to_string())
            .collect();
        let (channel, id, reason) = (String::new(), String::new(), String::new());
        let every = [
            EventBody::PaymentReceived {
                channel: channel.clone(),
                id: id.clone(),
                amount: 0,
                seq: 0,
            },
            EventBody::PaymentSent {
                channel: channel.clone(),
                id: id.clone(),
                amount: 0,
                seq: 0,
            },
            EventBody::PaymentDropped {
                channel: channel.clone(),
                id,
                amount: 0,
                reason: reason.clone(),
            },
            EventBody::ChannelStarted {
                channel: channel.clone(),
                me: "a".into(),
            },
            EventBody::ChannelRefused {
                channel: channel.clone(),
                reason: reason.clone(),
            },
            EventBody::ChannelEnded {
                channel: channel.clone(),
                reason,
            },
            EventBody::CloseAgreed {
                channel,
                seq: 0,
                balance_a: 0,
                balance_b: 0,
            },
            EventBody::Lagged { missed: 0 },
        ];
        let emitted: BTreeSet<String> = every
            .iter()
            .map(|body| {
                serde_json::to_value(body).expect("json")["type"]
                    .as_str()
                    .expect("tag")
                    .to_string()
            })
            .collect();
        assert_eq!(listed, emitted);
    }
}
