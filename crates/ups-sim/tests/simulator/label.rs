//! The GIF label's barcode decodes, with a real barcode reader, to the tracking number.

use reqwest::StatusCode;

use crate::common::{Harness, label_bytes, print_return_request, tracking_number};

#[tokio::test]
async fn the_gif_labels_barcode_reads_back_as_the_tracking_number() {
    if !sim_kit::zbar::available() {
        return;
    }
    let harness = Harness::start().await;
    let token = harness.client_token().await;
    let answer = harness.ship(&token, &print_return_request()).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let decoded = sim_kit::zbar::read(&label_bytes(&answer), "gif", "code128").unwrap();
    assert_eq!(decoded, tracking_number(&answer));
}
