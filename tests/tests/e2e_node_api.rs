//! A service's backend on the node's HTTP API, over real TCP, on the embedded LiteSVM ledger:
//! the event stream reports each payment (id, amount, channel, co-signed seq) as it becomes
//! final; the JSON routes show, pay, list receipts and close; a request without the token,
//! or with bad input, gets a 4xx with one readable line and changes nothing.

use paychan_interface::Address;
use paychan_node::{
    api::ROUTES,
    engine::{Input, Payment},
    node::InboundPolicy,
    runtime::RuntimeEnd,
    store::MemoryStore,
};
use paychan_tests::{
    chain::SvmChain,
    http::Api,
    pair::{join, open_channel_to},
    running::start_dialing,
    serving::serve,
    SOL,
};
use solana_program_test::tokio::sync::mpsc;
use solana_signer::Signer;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_backend_follows_payments_on_the_api_and_bad_requests_change_nothing() {
    paychan_tests::block_on(async {
        let mut chain = SvmChain::new();
        let (service, node) = serve(&mut chain, InboundPolicy::default()).await;
        let api = node.api("s3cret").await;

        // Without the token, or with a wrong one: 401 and one line.
        for token in [None, Some("wrong".to_string())] {
            let stranger = Api {
                token,
                ..api.clone()
            };
            let answer = stranger.get("/v1/channels").await;
            assert_eq!(answer.status, 401, "{answer:?}");
            assert!(answer.error().contains("token"), "{answer:?}");
        }

        // A payer opens a channel; the stream reports it, then each of its payments.
        let mut events = api.events().await;
        let (payer, channel) = open_channel_to(&mut chain, &service, 2 * SOL, 0).await;
        let started = events.next().await;
        assert_eq!(started["type"], "channel_started");
        assert_eq!(started["channel"], channel.address.to_string());
        assert_eq!(started["me"], "b");
        let driver = join(&chain, MemoryStore::new(), &payer, channel)
            .await
            .expect("the payer joins");
        let (notices, _notices) = mpsc::unbounded_channel();
        let party = start_dialing(driver, node.peers, (&payer, &service), &channel, notices);
        let ids: Vec<[u8; 16]> = (1..=5u8).map(|n| [n; 16]).collect();
        for (n, id) in ids.iter().enumerate() {
            let amount = 1_000 + n as u64;
            party.input(Input::Pay(Payment { id: *id, amount })).await;
        }
        let mut last_seq = 0;
        for (n, id) in ids.iter().enumerate() {
            let event = events.next().await;
            assert_eq!(event["type"], "payment_received", "{event}");
            assert_eq!(event["channel"], channel.address.to_string());
            assert_eq!(event["id"], hex(id));
            assert_eq!(event["amount"], 1_000 + n as u64);
            let seq = event["seq"].as_u64().expect("a seq");
            assert!(seq >= last_seq && seq > 0);
            last_seq = seq;
        }

        // The channel as the API shows it.
        let path = format!("/v1/channels/{}", channel.address);
        let shown = api.get(&path).await;
        assert_eq!(shown.status, 200, "{shown:?}");
        assert_eq!(shown.body["balance_b"], 5_010);
        assert_eq!(shown.body["me"], "b");
        assert_eq!(shown.body["peer"], payer.pubkey().to_string());
        let listed = api.get("/v1/channels").await;
        assert_eq!(listed.body.as_array().expect("a list").len(), 1);
        assert_eq!(api.get("/v1/node").await.body["channels"], 1);

        // Bad input: a 4xx with one line each, and nothing moves.
        let unknown = Address::new_from_array([7; 32]);
        let pay = format!("{path}/pay");
        let cases: Vec<(String, &str, &str, u16)> = vec![
            (
                format!("/v1/channels/{unknown}/pay"),
                "POST",
                r#"{"amount":1}"#,
                404,
            ),
            (
                "/v1/channels/nope/pay".into(),
                "POST",
                r#"{"amount":1}"#,
                400,
            ),
            (pay.clone(), "POST", r#"{"amount":"abc"}"#, 400),
            (pay.clone(), "POST", r#"{"amount":-1}"#, 400),
            (pay.clone(), "POST", r#"{"amount":1.5}"#, 400),
            (pay.clone(), "POST", r#"{"amount":0}"#, 400),
            (pay.clone(), "POST", r#"{}"#, 400),
            (pay.clone(), "POST", r#"{"amount":1,"to":"x"}"#, 400),
            (pay.clone(), "POST", "not json", 400),
            (pay.clone(), "POST", r#"{"amount":1000000000000}"#, 422),
            (pay.clone(), "POST", r#"{"amount":1,"count":0}"#, 400),
            (pay.clone(), "POST", r#"{"amount":1,"count":100001}"#, 400),
            (format!("{path}/history?limit=99999"), "GET", "", 400),
            (format!("{path}/history?from=x"), "GET", "", 400),
            ("/v1/nothing".into(), "GET", "", 404),
            (pay.clone(), "GET", "", 405),
        ];
        for (target, method, body, status) in cases {
            let answer = api.request(method, &target, body).await;
            assert_eq!(
                answer.status, status,
                "{method} {target} {body}: {answer:?}"
            );
            assert!(!answer.error().is_empty(), "{method} {target}: {answer:?}");
            assert!(!answer.error().contains('\n'));
        }
        assert_eq!(api.get(&path).await.body, shown.body, "nothing changed");

        // Every documented route reaches its handler (asked about an unknown channel).
        for (method, route) in ROUTES.iter().filter(|(_, r)| *r != "/v1/events") {
            let target = route.replace("{channel}", &unknown.to_string());
            let body = if route.ends_with("/pay") {
                r#"{"amount":1}"#
            } else {
                "{}"
            };
            let answer = api.request(method, &target, body).await;
            assert!(
                !answer.error().contains("no such route") && answer.status != 405,
                "{method} {route}: {answer:?}"
            );
        }

        // The node pays back; the stream shows it sent, the payer sees it.
        let paid = api.post(&pay, r#"{"amount":10}"#).await;
        assert_eq!(paid.status, 200, "{paid:?}");
        assert_eq!(paid.body["balance_b"], 5_000);
        let sent = events.next().await;
        assert_eq!(sent["type"], "payment_sent");
        assert_eq!(sent["id"], paid.body["first_id"]);

        // The receipts: every payment, in the states that carry them.
        let receipts = api.get(&format!("{path}/history")).await;
        let mut paid_ids: Vec<String> = receipts
            .body
            .as_array()
            .expect("receipts")
            .iter()
            .flat_map(|r| r["payments"].as_array().cloned().unwrap_or_default())
            .map(|p| p["id"].as_str().expect("an id").to_string())
            .collect();
        paid_ids.sort();
        let mut expected: Vec<String> = ids.iter().map(|id| hex(id)).collect();
        expected.push(paid.body["first_id"].as_str().expect("id").to_string());
        expected.sort();
        assert_eq!(paid_ids, expected);

        // Closed through the API: cooperatively, and the payer's runtime ends.
        let closed = api.post(&format!("{path}/close"), "{}").await;
        assert_eq!(closed.status, 200, "{closed:?}");
        assert_eq!(closed.body["cooperative"], true);
        assert_eq!(closed.body["balance_b"], 5_000);
        assert_eq!(party.ended().await, RuntimeEnd::ChannelClosed);
    });
}

/// A flood of API requests is bounded: while 256 requests are being served (payments that
/// wait for a payer who is not connected), the next is refused at once with 503, and once
/// they are answered the API serves again.
#[test]
fn a_flood_of_api_requests_is_refused_beyond_the_bound() {
    paychan_tests::block_on(async {
        let mut chain = SvmChain::new();
        let (service, node) = serve(&mut chain, InboundPolicy::default()).await;
        let api = node.api("s3cret").await;
        // A channel whose payer never connects: the node's own payments wait for it.
        let (_, channel) = open_channel_to(&mut chain, &service, 2 * SOL, SOL).await;
        let mut events = api.events().await;
        assert_eq!(events.next().await["type"], "channel_started");
        let pay = format!("/v1/channels/{}/pay", channel.address);
        let body = r#"{"amount":1,"timeout_ms":3000}"#;
        let waiting: Vec<_> = (0..paychan_node::api::MAX_CONCURRENT_REQUESTS)
            .map(|_| {
                let (api, pay) = (api.clone(), pay.clone());
                solana_program_test::tokio::task::spawn_local(
                    async move { api.post(&pay, body).await },
                )
            })
            .collect();
        // Once every one of them is being served, one more is refused at once.
        // Bounded by the pays' own timeout: once they are answered, nothing is refused.
        let mut refused = None;
        for _ in 0..10_000 {
            let answer = api.get("/v1/node").await;
            if answer.status == 503 {
                refused = Some(answer);
                break;
            }
            solana_program_test::tokio::task::yield_now().await;
        }
        let Some(refused) = refused else {
            let first = waiting
                .into_iter()
                .next()
                .expect("one")
                .await
                .expect("task");
            panic!("no request was refused; the first pay answered {first:?}");
        };
        assert!(refused.error().contains("busy"), "{refused:?}");
        for request in waiting {
            let answer = request.await.expect("the request's task");
            assert_eq!(answer.status, 504, "{answer:?}");
        }
        assert_eq!(api.get("/v1/node").await.status, 200, "it serves again");
    });
}
