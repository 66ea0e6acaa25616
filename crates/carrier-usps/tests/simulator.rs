//! Label purchases against the USPS simulator: token and payment caching, the one retry after a
//! 401, every injected fault classified, idempotent resends, USPS rejections, and both reply
//! formats.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use carrier::{AccountContext, Carrier, CarrierError, ErrorKind, LabelFormat, Money};
use carrier_usps::ReplyFormat;
use serde_json::json;
use support::{buy, carrier, demo_account, fault, key, request, simulator};
use usps_sim::{Fault, demo, route};

const GROUND: &str = "usps_ground_advantage_return";

#[tokio::test]
async fn a_label_is_bought_with_the_demo_account() {
    let sim = simulator().await;
    let carrier = carrier(&sim.base_url);
    let account = demo_account(&carrier);
    let label = buy(&carrier, &account, &request(GROUND), &key("first-label"))
        .await
        .unwrap();
    assert!(label.tracking_number.as_str().starts_with("92"));
    assert!(label.tracking_number.as_str().contains(demo::RETURNS_MID));
    assert_eq!(label.routing_code.as_deref(), Some("42063116"));
    assert!(label.charges.postage().minor_units() > 0);
    assert_eq!(
        label.carrier_service,
        "USPS_GROUND_ADVANTAGE_RETURN_SERVICE"
    );
    let document = label.label.as_ref().unwrap();
    assert!(LabelFormat::Pdf.matches(&document.bytes));
    let ledger = sim.simulator.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].tracking_number, label.tracking_number.as_str());
    assert_eq!(
        i64::try_from(ledger[0].postage_cents).unwrap(),
        label.charges.postage().minor_units()
    );
    assert_eq!(
        ledger[0].idempotency_key.as_deref(),
        label.carrier_idempotency_key.as_deref()
    );
}

#[tokio::test]
async fn a_permit_account_buys_a_label() {
    let sim = simulator().await;
    let carrier = carrier(&sim.base_url);
    let account = support::validate(&carrier, &support::permit_details(), &support::own_app());
    let label = buy(&carrier, &account, &request(GROUND), &key("permit-label"))
        .await
        .unwrap();
    assert!(label.tracking_number.as_str().contains(demo::MID));
}

#[tokio::test]
async fn a_hundred_concurrent_labels_make_one_token_call_and_one_payment_authorization() {
    let sim = simulator().await;
    let carrier = Arc::new(carrier(&sim.base_url));
    let account = Arc::new(demo_account(&carrier));
    let request = Arc::new(request(GROUND));
    let mut tasks = Vec::new();
    for n in 0..100 {
        let carrier = carrier.clone();
        let account = account.clone();
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            carrier
                .create_return_label(
                    AccountContext {
                        id: "sa_busy",
                        details: &account.details,
                        credentials: &account.credentials,
                    },
                    &request,
                    &key(&format!("burst-{n}")),
                )
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let counters = sim.simulator.counters();
    assert_eq!(counters.grant("client_credentials").calls, 1);
    assert_eq!(counters.route(route::PAYMENT_AUTHORIZATION).calls, 1);
    assert_eq!(counters.route(route::RETURN_LABEL).calls, 100);
    assert_eq!(sim.simulator.ledger().len(), 100);
}

#[tokio::test]
async fn an_expired_token_is_renewed_once_and_the_label_is_bought() {
    let sim = simulator().await;
    let carrier = carrier(&sim.base_url);
    let account = demo_account(&carrier);
    buy(&carrier, &account, &request(GROUND), &key("warm-up"))
        .await
        .unwrap();
    sim.simulator
        .inject(fault(route::RETURN_LABEL, Fault::ExpiredToken));
    buy(&carrier, &account, &request(GROUND), &key("after-expiry"))
        .await
        .unwrap();
    let counters = sim.simulator.counters();
    assert_eq!(counters.grant("client_credentials").calls, 2);
    assert_eq!(counters.route(route::RETURN_LABEL).calls, 3);
    assert_eq!(sim.simulator.ledger().len(), 2);
}

#[tokio::test]
async fn a_token_refused_twice_is_unauthenticated_after_one_retry() {
    let sim = simulator().await;
    let carrier = carrier(&sim.base_url);
    let account = demo_account(&carrier);
    let mut rule = fault(route::RETURN_LABEL, Fault::ExpiredToken);
    rule.times = Some(2);
    sim.simulator.inject(rule);
    let error = buy(&carrier, &account, &request(GROUND), &key("refused-twice"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error:?}");
    assert_eq!(sim.simulator.counters().route(route::RETURN_LABEL).calls, 2);
    assert!(sim.simulator.ledger().is_empty());
}

#[tokio::test]
async fn an_expired_token_on_the_payment_call_is_renewed_once() {
    let sim = simulator().await;
    let carrier = carrier(&sim.base_url);
    let account = demo_account(&carrier);
    sim.simulator
        .inject(fault(route::PAYMENT_AUTHORIZATION, Fault::ExpiredToken));
    buy(&carrier, &account, &request(GROUND), &key("payment-expiry"))
        .await
        .unwrap();
    let counters = sim.simulator.counters();
    assert_eq!(counters.grant("client_credentials").calls, 2);
    assert_eq!(counters.route(route::PAYMENT_AUTHORIZATION).calls, 2);
    assert_eq!(counters.route(route::RETURN_LABEL).calls, 1);
}

async fn label_error(label_fault: Fault) -> (CarrierError, usize, u64) {
    let sim = simulator().await;
    let carrier = carrier(&sim.base_url);
    let account = demo_account(&carrier);
    sim.simulator
        .inject(fault(route::RETURN_LABEL, label_fault));
    let error = buy(&carrier, &account, &request(GROUND), &key("faulty"))
        .await
        .unwrap_err();
    let calls = sim.simulator.counters().route(route::RETURN_LABEL).calls;
    (error, sim.simulator.ledger().len(), calls)
}

#[tokio::test]
async fn a_server_error_on_the_label_post_is_outcome_unknown() {
    let (error, _, calls) = label_error(Fault::Status { status: 500 }).await;
    assert_eq!(error.kind(), ErrorKind::OutcomeUnknown, "{error:?}");
    assert!(error.to_string().starts_with("usps"));
    assert_eq!(calls, 1, "the label POST is not retried");
}

#[tokio::test]
async fn service_unavailable_on_the_label_post_is_unavailable_with_its_retry_after() {
    let (error, labels, calls) = label_error(Fault::Status { status: 503 }).await;
    assert_eq!(error.kind(), ErrorKind::Unavailable, "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!((labels, calls), (0, 1), "not retried, nothing bought");
}

#[tokio::test]
async fn too_many_requests_is_rate_limited_with_its_retry_after() {
    let (error, labels, _) = label_error(Fault::RateLimit { retry_after_s: 30 }).await;
    assert_eq!(error.kind(), ErrorKind::RateLimited, "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(labels, 0);
}

#[tokio::test]
async fn a_malformed_label_reply_is_outcome_unknown() {
    let (error, labels, _) = label_error(Fault::Malformed).await;
    assert_eq!(error.kind(), ErrorKind::OutcomeUnknown, "{error:?}");
    assert_eq!(labels, 1, "the simulator bought the label");
}

#[tokio::test]
async fn a_reset_after_commit_is_outcome_unknown() {
    let (error, labels, _) = label_error(Fault::ResetAfterCommit).await;
    assert_eq!(error.kind(), ErrorKind::OutcomeUnknown, "{error:?}");
    assert_eq!(labels, 1);
}

async fn resend_after(label_fault: Fault, timeout: Duration) {
    let sim = simulator().await;
    let carrier = support::builder(&sim.base_url)
        .with_request_timeout(timeout)
        .build()
        .unwrap();
    let account = demo_account(&carrier);
    // Warm the token caches so that the timeout applies to the label POST alone.
    buy(&carrier, &account, &request(GROUND), &key("warm-up"))
        .await
        .unwrap();
    sim.simulator
        .inject(fault(route::RETURN_LABEL, label_fault));
    let key = key("ambiguous-resend");
    let first = buy(&carrier, &account, &request(GROUND), &key)
        .await
        .unwrap_err();
    assert_eq!(first.kind(), ErrorKind::OutcomeUnknown, "{first:?}");
    let label = buy(&carrier, &account, &request(GROUND), &key)
        .await
        .unwrap();
    let ledger = sim.simulator.ledger();
    let matching: Vec<_> = ledger
        .iter()
        .filter(|entry| entry.idempotency_key == label.carrier_idempotency_key)
        .collect();
    assert_eq!(matching.len(), 1, "one label for the key, not two");
    assert_eq!(matching[0].tracking_number, label.tracking_number.as_str());
    assert_eq!(ledger.len(), 2, "the warm-up label and this one");
}

#[tokio::test]
async fn a_resend_after_a_reset_after_commit_returns_the_one_label() {
    resend_after(Fault::ResetAfterCommit, Duration::from_secs(10)).await;
}

#[tokio::test]
async fn a_resend_after_a_malformed_reply_returns_the_one_label() {
    resend_after(Fault::Malformed, Duration::from_secs(10)).await;
}

#[tokio::test]
async fn a_resend_after_a_timeout_returns_the_one_label() {
    resend_after(Fault::Latency { ms: 1_500 }, Duration::from_millis(500)).await;
}

#[tokio::test]
async fn latency_beyond_the_client_timeout_is_outcome_unknown() {
    let sim = simulator().await;
    let carrier = support::builder(&sim.base_url)
        .with_request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let account = demo_account(&carrier);
    let mut rule = fault(route::RETURN_LABEL, Fault::Latency { ms: 1_000 });
    rule.times = None;
    sim.simulator.inject(rule);
    let error = buy(&carrier, &account, &request(GROUND), &key("slow"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::OutcomeUnknown, "{error:?}");
}

#[tokio::test]
async fn a_token_endpoint_unavailable_once_is_retried() {
    let sim = simulator().await;
    let carrier = carrier(&sim.base_url);
    let account = demo_account(&carrier);
    sim.simulator
        .inject(fault(route::TOKEN, Fault::Status { status: 503 }));
    buy(&carrier, &account, &request(GROUND), &key("token-503"))
        .await
        .unwrap();
    assert_eq!(sim.simulator.counters().route(route::TOKEN).calls, 2);
}

#[tokio::test]
async fn a_payment_call_rate_limited_briefly_is_retried() {
    let sim = simulator().await;
    let carrier = carrier(&sim.base_url);
    let account = demo_account(&carrier);
    sim.simulator.inject(fault(
        route::PAYMENT_AUTHORIZATION,
        Fault::RateLimit { retry_after_s: 0 },
    ));
    buy(&carrier, &account, &request(GROUND), &key("payment-429"))
        .await
        .unwrap();
    assert_eq!(
        sim.simulator
            .counters()
            .route(route::PAYMENT_AUTHORIZATION)
            .calls,
        2
    );
}

#[tokio::test]
async fn a_long_rate_limit_on_the_token_call_is_not_waited_out() {
    let sim = simulator().await;
    let carrier = carrier(&sim.base_url);
    let account = demo_account(&carrier);
    sim.simulator
        .inject(fault(route::TOKEN, Fault::RateLimit { retry_after_s: 600 }));
    let error = buy(&carrier, &account, &request(GROUND), &key("token-429"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::RateLimited);
    assert_eq!(error.retry_after(), Some(Duration::from_secs(600)));
    assert_eq!(sim.simulator.counters().route(route::TOKEN).calls, 1);
}

#[tokio::test]
async fn an_unreachable_usps_is_unavailable() {
    // Bind and drop a listener to get a loopback port that refuses connections.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let carrier = carrier(&format!("http://127.0.0.1:{port}"));
    let account = demo_account(&carrier);
    let error = buy(&carrier, &account, &request(GROUND), &key("unreachable"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable, "{error:?}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_crid_not_enrolled_in_ship_returns_is_rejected_with_160304() {
    let sim = simulator().await;
    let carrier = carrier(&sim.base_url);
    let details = json!({
        "crid": demo::UNENROLLED_CRID,
        "mid": demo::UNENROLLED_MID,
        "manifest_mid": demo::UNENROLLED_MANIFEST_MID,
        "account_type": "EPS",
        "eps_account_number": demo::UNENROLLED_EPS_ACCOUNT,
        "return_address": support::return_address(),
    });
    let account = support::validate(&carrier, &details, &support::own_app());
    let error = buy(&carrier, &account, &request(GROUND), &key("unenrolled"))
        .await
        .unwrap_err();
    let CarrierError::Rejected { messages, .. } = &error else {
        panic!("expected a rejection, got {error:?}");
    };
    let message = messages.iter().find(|m| m.code == "160304").unwrap();
    assert!(message.message.contains("USPS Ship Returns"), "{message:?}");
}

#[tokio::test]
async fn an_inactive_eps_account_is_rejected_with_100002_and_no_eps_number_in_the_error() {
    let sim = simulator().await;
    let carrier = carrier(&sim.base_url);
    let mut details = support::eps_details();
    details["eps_account_number"] = json!(demo::INACTIVE_EPS_ACCOUNT);
    let account = support::validate(&carrier, &details, &support::own_app());
    let error = buy(&carrier, &account, &request(GROUND), &key("inactive-eps"))
        .await
        .unwrap_err();
    let CarrierError::Rejected { messages, .. } = &error else {
        panic!("expected a rejection, got {error:?}");
    };
    assert!(messages.iter().any(|m| m.code == "100002"), "{messages:?}");
    let printed = format!("{error} {error:?}");
    assert!(!printed.contains(demo::INACTIVE_EPS_ACCOUNT), "{printed}");
}

#[tokio::test]
async fn an_unknown_eps_account_is_rejected_without_echoing_its_number() {
    let sim = simulator().await;
    let carrier = carrier(&sim.base_url);
    let mut details = support::eps_details();
    details["eps_account_number"] = json!("1000000042");
    let account = support::validate(&carrier, &details, &support::own_app());
    let error = buy(&carrier, &account, &request(GROUND), &key("unknown-eps"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Rejected, "{error:?}");
    let printed = format!("{error} {error:?}");
    assert!(!printed.contains("1000000042"), "{printed}");
}

#[tokio::test]
async fn json_and_multipart_replies_produce_the_same_label() {
    let sim = simulator().await;
    let json_carrier = support::carrier_with_format(&sim.base_url, ReplyFormat::VendorJson);
    let multipart_carrier = support::carrier_with_format(&sim.base_url, ReplyFormat::Multipart);
    let account = demo_account(&json_carrier);
    let mut request = request("usps_priority_mail_return");
    request.receipt = carrier::ReceiptOption::SeparatePage;
    let key = key("same-label-two-formats");
    // The same key and body: the simulator replays the stored label in the other format.
    let from_json = buy(&json_carrier, &account, &request, &key).await.unwrap();
    let from_multipart = buy(&multipart_carrier, &account, &request, &key)
        .await
        .unwrap();
    assert_eq!(from_json.tracking_number, from_multipart.tracking_number);
    assert_eq!(from_json.routing_code, from_multipart.routing_code);
    assert_eq!(from_json.charges, from_multipart.charges);
    assert_eq!(from_json.zone, from_multipart.zone);
    assert_eq!(from_json.to_address, from_multipart.to_address);
    assert_eq!(from_json.label, from_multipart.label);
    assert!(from_json.receipt.is_some());
    assert_eq!(from_json.receipt, from_multipart.receipt);
    assert_eq!(
        from_json.carrier_idempotency_key,
        from_multipart.carrier_idempotency_key
    );
    assert_eq!(sim.simulator.ledger().len(), 1);
}

#[tokio::test]
async fn every_format_and_receipt_combination_comes_back_as_that_format() {
    let sim = simulator().await;
    let carrier = support::carrier_with_format(&sim.base_url, ReplyFormat::Multipart);
    let account = demo_account(&carrier);
    let mut n = 0;
    for format in carrier.capabilities(None).label_formats {
        for receipt in [
            carrier::ReceiptOption::None,
            carrier::ReceiptOption::SamePage,
            carrier::ReceiptOption::SeparatePage,
        ] {
            if format == LabelFormat::Zpl && receipt == carrier::ReceiptOption::SamePage {
                continue;
            }
            n += 1;
            let mut request = request(GROUND);
            request.label_format = format;
            request.receipt = receipt;
            let label = buy(&carrier, &account, &request, &key(&format!("combo-{n}")))
                .await
                .unwrap_or_else(|error| panic!("{format:?} {receipt:?}: {error:?}"));
            assert!(format.matches(&label.label.unwrap().bytes), "{format:?}");
            if let Some(receipt) = label.receipt {
                assert!(format.matches(&receipt.bytes));
            }
        }
    }
}

#[tokio::test]
async fn first_class_package_return_is_bought_as_ground_advantage_with_a_warning() {
    let sim = simulator().await;
    let carrier = carrier(&sim.base_url);
    let account = demo_account(&carrier);
    let label = buy(
        &carrier,
        &account,
        &request("usps_first_class_package_return"),
        &key("first-class"),
    )
    .await
    .unwrap();
    assert_eq!(label.service.as_str(), "usps_first_class_package_return");
    assert_eq!(
        label.carrier_service,
        "USPS_GROUND_ADVANTAGE_RETURN_SERVICE"
    );
    assert!(
        label
            .warnings
            .iter()
            .any(|w| w.code == "service_superseded")
    );
    assert_eq!(
        sim.simulator.ledger()[0].mail_class,
        "USPS_GROUND_ADVANTAGE_RETURN_SERVICE"
    );
}

#[tokio::test]
async fn postage_matches_the_ledger_in_cents() {
    let sim = simulator().await;
    let carrier = carrier(&sim.base_url);
    let account = demo_account(&carrier);
    for (n, service) in [
        GROUND,
        "usps_priority_mail_return",
        "usps_priority_mail_express_return",
    ]
    .into_iter()
    .enumerate()
    {
        let label = buy(
            &carrier,
            &account,
            &request(service),
            &key(&format!("postage-{n}")),
        )
        .await
        .unwrap();
        let cents = sim.simulator.ledger()[n].postage_cents;
        assert_eq!(
            label.charges.postage(),
            Money::usd_cents(i64::try_from(cents).unwrap())
        );
    }
}

/// A parcel longer than 22 in: the simulator charges the "Nonstandard Length fee > 22 in." of
/// its price table in the reply's `fees`, on top of the postage the ledger records.
#[tokio::test]
async fn a_long_parcel_carries_the_nonstandard_length_fee_in_its_charges() {
    let sim = simulator().await;
    let carrier = carrier(&sim.base_url);
    let account = demo_account(&carrier);
    let mut input = support::input(GROUND);
    input.parcel.as_mut().unwrap().length_in = Some(rust_decimal::Decimal::from(24));
    let request = carrier::ReturnLabelRequest::parse(&input).unwrap();
    let label = buy(&carrier, &account, &request, &key("long-parcel"))
        .await
        .unwrap();
    let postage = Money::usd_cents(i64::try_from(sim.simulator.ledger()[0].postage_cents).unwrap());
    let fee = carrier::Fee::new(
        Some("DXNXXXXXXXX2200"),
        Some("Nonstandard Length fee > 22 in."),
        Money::usd_cents(400),
    );
    assert_eq!(label.charges.postage(), postage);
    assert_eq!(label.charges.fees(), [fee]);
    assert_eq!(
        label.charges.total(),
        postage.checked_add(Money::usd_cents(400)).unwrap()
    );
}
