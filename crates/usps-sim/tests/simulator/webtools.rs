//! The Web Tools `USPSReturnsLabel` XML API at `/ShippingAPI.dll`, driven over HTTP.
//!
//! The guides' request samples are read from the reference files at test time and sent
//! verbatim; replies are read with quick-xml's event reader, independently of the simulator.

use base64::Engine;
use carrier::tracking::TrackingNumber;
use quick_xml::events::Event;
use quick_xml::reader::Reader;
use reqwest::StatusCode;
use usps_sim::{Fault, FaultRule, FaultRuleError, ReturnsOption, SimConfig, Simulator, demo};

use crate::common::{Harness, label_body};

const LABEL: &str = "USPSReturnsLabel";
const CERTIFY: &str = "USPSReturnsLabelCertify";

/// A reference file of the shared folder beside the workspace.
fn reference(path: &str) -> String {
    let full = format!(
        "{}/../../../shared/reference/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&full).unwrap_or_else(|error| panic!("{full}: {error}"))
}

/// Every `<USPSReturnsLabelRequest …>…</USPSReturnsLabelRequest>` block of a guide, verbatim.
fn request_samples(guide: &str) -> Vec<String> {
    let open = "<USPSReturnsLabelRequest";
    let close = "</USPSReturnsLabelRequest>";
    let mut samples = Vec::new();
    let mut rest = guide;
    while let Some(start) = rest.find(open) {
        let after = &rest[start..];
        let next = after[open.len()..].chars().next().unwrap_or('>');
        if !next.is_whitespace() {
            rest = &after[open.len()..];
            continue;
        }
        let end = after.find(close).unwrap() + close.len();
        samples.push(after[..end].to_owned());
        rest = &after[end..];
    }
    samples
}

fn v1_2_sample() -> String {
    let samples = request_samples(&reference("seeds/usps-returns-label-api-v1.2.txt"));
    assert_eq!(samples.len(), 1, "the v1.2 guide has one request sample");
    samples[0].clone()
}

fn v1_5_samples() -> Vec<String> {
    let samples = request_samples(&reference("usps-webtools/uspsreturnslabel-api-v1.5.txt"));
    assert_eq!(
        samples.len(),
        3,
        "the v1.5 guide has three request samples: non-manifesting, manifesting, eFulfillment"
    );
    samples
}

/// A reply read back: its root and every element as (path below the root, text), in order.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) root: String,
    fields: Vec<(String, String)>,
}

impl Reply {
    fn parse(xml: &str) -> Self {
        let mut reader = Reader::from_str(xml);
        let mut path: Vec<String> = Vec::new();
        let mut root = String::new();
        let mut fields: Vec<(String, String)> = Vec::new();
        loop {
            match reader.read_event().unwrap() {
                Event::Start(start) => {
                    let name = start.name().as_ref().to_owned();
                    if root.is_empty() {
                        root = name;
                    } else {
                        path.push(name);
                        fields.push((path.join("/"), String::new()));
                    }
                }
                Event::Empty(start) => {
                    let name = start.name().as_ref().to_owned();
                    path.push(name);
                    fields.push((path.join("/"), String::new()));
                    path.pop();
                }
                Event::End(_) => {
                    path.pop();
                }
                Event::Text(text) => {
                    let current = path.join("/");
                    if let Some(field) = fields.iter_mut().rev().find(|(key, _)| *key == current) {
                        field.1.push_str(&text.xml10_content());
                    }
                }
                Event::GeneralRef(reference) => {
                    let current = path.join("/");
                    let resolved =
                        quick_xml::escape::resolve_predefined_entity(&reference.xml10_content())
                            .unwrap()
                            .to_owned();
                    if let Some(field) = fields.iter_mut().rev().find(|(key, _)| *key == current) {
                        field.1.push_str(&resolved);
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        Self { root, fields }
    }

    fn get(&self, path: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(key, _)| key == path)
            .map(|(_, value)| value.as_str())
    }

    fn text(&self, path: &str) -> &str {
        self.get(path)
            .unwrap_or_else(|| panic!("{path} missing from {:?}", self.top_level()))
    }

    /// The root's children, in order.
    fn top_level(&self) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(key, _)| !key.contains('/'))
            .map(|(key, _)| key.as_str())
            .collect()
    }

    fn image(&self, path: &str) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(self.text(path))
            .unwrap()
    }

    /// Number and Description of an `<Error>` document.
    fn error(&self) -> (&str, &str) {
        assert_eq!(self.root, "Error", "expected an Error document: {self:?}");
        assert_eq!(
            self.top_level(),
            ["Number", "Source", "Description", "HelpFile", "HelpContext"]
        );
        (self.text("Number"), self.text("Description"))
    }
}

impl Harness {
    pub(crate) async fn start_with(config: SimConfig) -> Self {
        Self {
            running: Simulator::new(config).spawn().await.unwrap(),
            http: reqwest::Client::new(),
        }
    }

    /// `POST /ShippingAPI.dll` with the form `API` and `XML`.
    pub(crate) async fn webtools_post(&self, api: &str, xml: &str) -> (StatusCode, Reply) {
        let response = self
            .http
            .post(self.url("/ShippingAPI.dll"))
            .form(&[("API", api), ("XML", xml)])
            .send()
            .await
            .unwrap();
        read(response).await
    }

    /// `/ShippingAPI.dll?API=…&XML=…`.
    fn query_url(&self, api: &str, xml: &str) -> url::Url {
        let mut url = url::Url::parse(&self.url("/ShippingAPI.dll")).unwrap();
        url.query_pairs_mut()
            .append_pair("API", api)
            .append_pair("XML", xml);
        url
    }

    /// `GET /ShippingAPI.dll?API=…&XML=…`.
    async fn webtools_get(&self, api: &str, xml: &str) -> (StatusCode, Reply) {
        let response = self
            .http
            .get(self.query_url(api, xml))
            .send()
            .await
            .unwrap();
        read(response).await
    }
}

async fn read(response: reqwest::Response) -> (StatusCode, Reply) {
    let status = response.status();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/xml"), "{content_type}");
    let body = response.text().await.unwrap();
    assert!(body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    (status, Reply::parse(&body))
}

/// A valid v1.5 request of the main demo Web Tools user.
pub(crate) fn request() -> String {
    format!(
        r#"<USPSReturnsLabelRequest USERID="{user}" PASSWORD="{password}">
<Option/>
<Revision/>
<ImageParameters><ImageType>PDF</ImageType><SeparateReceiptPage>false</SeparateReceiptPage></ImageParameters>
<CustomerFirstName>John</CustomerFirstName>
<CustomerLastName>Doe</CustomerLastName>
<CustomerAddress1>Apt 2</CustomerAddress1>
<CustomerAddress2>1400 L St NW</CustomerAddress2>
<CustomerCity>Washington</CustomerCity>
<CustomerState>DC</CustomerState>
<CustomerZip5>20005</CustomerZip5>
<CustomerZip4/>
<POZipCode/>
<WeightInOunces>24</WeightInOunces>
<ServiceType>GROUND</ServiceType>
<Width>8</Width>
<Length>12</Length>
<Height>4</Height>
<Machinable>true</Machinable>
<CustomerRefNo>RMA-1001</CustomerRefNo>
<PrintCustomerRefNo>true</PrintCustomerRefNo>
<SenderName>Backhaul</SenderName>
<SenderEmail>returns@example.com</SenderEmail>
<RecipientEmail>john.doe@example.com</RecipientEmail>
<ExtraServices><ExtraService>156</ExtraService></ExtraServices>
</USPSReturnsLabelRequest>"#,
        user = demo::WEBTOOLS_USER_ID,
        password = demo::WEBTOOLS_PASSWORD,
    )
}

/// `request()` with `from` replaced by `to` (which must occur).
fn changed(from: &str, to: &str) -> String {
    let base = request();
    assert!(base.contains(from), "{from:?} is not in the base request");
    base.replacen(from, to, 1)
}

/// The root's children for `api` with the demo user: the base request's body.
fn as_certify(xml: &str) -> String {
    xml.replace("USPSReturnsLabelRequest", "USPSReturnsLabelCertifyRequest")
}

fn assert_valid_barcode(reply: &Reply, zip: &str, mid: &str) -> String {
    let barcode = reply.text("BarcodeNumber");
    let routing = format!("420{zip}");
    assert!(barcode.starts_with(&routing), "{barcode}");
    let tracking = &barcode[routing.len()..];
    assert_eq!(tracking.len(), 22);
    let parsed = TrackingNumber::parse_impb("BarcodeNumber", tracking).unwrap();
    let prefix = if mid.len() == 9 { "92" } else { "93" };
    assert!(tracking.starts_with(prefix) && tracking[5..5 + mid.len()] == *mid);
    parsed.as_str().to_owned()
}

#[tokio::test]
async fn the_v1_2_guides_request_sample_is_accepted_verbatim() {
    let harness = Harness::start().await;
    let (status, reply) = harness.webtools_post(LABEL, &v1_2_sample()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reply.root, "USPSReturnsLabelResponse", "{reply:?}");
    assert_eq!(reply.text("ToFirm"), demo::WEBTOOLS_SAMPLE_FIRM);
    assert_eq!(reply.text("ToAddress1"), "");
    assert_eq!(reply.text("ToAddress2"), "12000 CHERRY HILL RD");
    assert_eq!(reply.text("ToCity"), "Silver Spring");
    assert_eq!(reply.text("ToState"), "MD");
    assert_eq!(reply.text("ToZip5"), demo::WEBTOOLS_SAMPLE_ZIP);
    assert_eq!(reply.text("ToZip4"), "1985");
    assert_eq!(reply.text("Postnet"), "20904198500");
    assert_eq!(reply.text("ExtraServices/ExtraService/ServiceID"), "156");
    assert_eq!(
        reply.text("ExtraServices/ExtraService/ServiceName"),
        "Signature Confirmation Electronic"
    );
    assert_eq!(reply.text("ExtraServices/ExtraService/Price"), "2.65");
    assert_valid_barcode(&reply, demo::WEBTOOLS_SAMPLE_ZIP, demo::WEBTOOLS_SAMPLE_MID);
    assert!(reply.image("LabelImage").starts_with(b"%PDF-"));
}

#[tokio::test]
async fn a_v1_2_request_gets_every_v1_2_reply_tag_in_the_documented_order() {
    let harness = Harness::start().await;
    let (_, reply) = harness.webtools_post(LABEL, &v1_2_sample()).await;
    assert_eq!(
        reply.top_level(),
        [
            "BarcodeNumber",
            "LabelImage",
            "ToFirm",
            "ToAddress1",
            "ToAddress2",
            "ToCity",
            "ToState",
            "ToZip5",
            "ToZip4",
            "Postnet",
            "RDC",
            "Postage",
            "ExtraServices",
            "Zone",
            "CarrierRoute",
        ]
    );
    let postage = reply.text("Postage");
    let (dollars, cents) = postage.split_once('.').unwrap();
    assert!(
        dollars.parse::<u32>().unwrap() > 0 && cents.len() == 2,
        "{postage}"
    );
    assert_eq!(reply.text("Zone").len(), 2);
    assert_eq!(reply.text("RDC").len(), 4);
}

#[tokio::test]
async fn the_v1_5_guides_non_manifesting_sample_is_accepted_verbatim_with_v1_5_reply_tags() {
    let harness = Harness::start().await;
    let (status, reply) = harness.webtools_post(LABEL, &v1_5_samples()[0]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reply.root, "USPSReturnsLabelResponse", "{reply:?}");
    assert_eq!(
        reply.top_level(),
        [
            "BarcodeNumber",
            "LabelImage",
            "RetailerATTN",
            "RetailerFirm",
            "RetailerAddress1",
            "RetailerAddress2",
            "RetailerCity",
            "RetailerState",
            "RetailerZip5",
            "RetailerZip4",
            "RDC",
            "Postage",
            "ExtraServices",
            "Zone",
            "CarrierRoute",
        ]
    );
    // The request's RetailerATTN overrides the profile's; the rest is the configured address.
    assert_eq!(
        reply.text("RetailerATTN"),
        "ATTN: Retailer Returns Department"
    );
    assert_eq!(reply.text("RetailerFirm"), demo::WEBTOOLS_SAMPLE_FIRM);
    assert_eq!(reply.text("RetailerZip5"), demo::WEBTOOLS_SAMPLE_ZIP);
    assert_eq!(reply.text("RetailerZip4"), "1985");
}

#[tokio::test]
async fn the_v1_5_guides_manifesting_sample_with_insurance_is_accepted_verbatim() {
    let harness = Harness::start().await;
    let (_, reply) = harness.webtools_post(LABEL, &v1_5_samples()[1]).await;
    assert_eq!(reply.root, "USPSReturnsLabelResponse", "{reply:?}");
    assert_eq!(reply.text("ExtraServices/ExtraService/ServiceID"), "100");
    assert_eq!(
        reply.text("ExtraServices/ExtraService/ServiceName"),
        "Insurance (Non-Priority)"
    );
    let ledger = harness.simulator().ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].mail_class, "FIRST CLASS");
}

#[tokio::test]
async fn the_v1_5_guides_efulfillment_sample_is_accepted_verbatim_for_an_efulfillment_user() {
    let mut config = SimConfig::default();
    let sample_user = config
        .webtools_users
        .iter_mut()
        .find(|user| user.user_id == demo::WEBTOOLS_SAMPLE_USER_ID)
        .unwrap();
    sample_user.option = ReturnsOption::Efulfillment;
    let harness = Harness::start_with(config).await;
    let (_, reply) = harness.webtools_post(LABEL, &v1_5_samples()[2]).await;
    assert_eq!(reply.root, "USPSReturnsLabelResponse", "{reply:?}");
    // eFulfillment labels go to the retailer named in the request.
    assert_eq!(reply.text("RetailerFirm"), "Retailer Firm");
    assert_eq!(reply.text("RetailerAddress1"), "Ste 100");
    assert_eq!(reply.text("RetailerAddress2"), "2 Massachusetts Ave NE");
    assert_eq!(reply.text("RetailerZip5"), "20212");
    assert_eq!(reply.text("RetailerZip4"), "1726");
    assert_valid_barcode(&reply, "20212", demo::WEBTOOLS_SAMPLE_MID);
}

#[tokio::test]
async fn the_efulfillment_sample_is_refused_for_a_manifesting_user() {
    let harness = Harness::start().await;
    let (_, reply) = harness.webtools_post(LABEL, &v1_5_samples()[2]).await;
    let (number, description) = reply.error();
    assert_eq!(number, "-2147219085");
    assert!(description.contains("ReturnsPostageType"), "{description}");
}

#[tokio::test]
async fn get_with_api_and_xml_in_the_query_returns_a_label() {
    let harness = Harness::start().await;
    let (status, reply) = harness.webtools_get(LABEL, &request()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reply.root, "USPSReturnsLabelResponse", "{reply:?}");
    assert_eq!(reply.text("RetailerZip5"), demo::RETURN_ADDRESS_ZIP);
}

#[tokio::test]
async fn post_with_a_form_body_returns_the_configured_destination() {
    let harness = Harness::start().await;
    let (status, reply) = harness.webtools_post(LABEL, &request()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reply.text("RetailerATTN"), demo::RETURN_ADDRESS_ATTENTION);
    assert_eq!(reply.text("RetailerFirm"), demo::RETURN_ADDRESS_FIRM);
    assert_eq!(reply.text("RetailerAddress1"), "");
    assert_eq!(reply.text("RetailerAddress2"), demo::RETURN_ADDRESS_STREET);
    assert_eq!(reply.text("RetailerCity"), demo::RETURN_ADDRESS_CITY);
    assert_eq!(reply.text("RetailerState"), demo::RETURN_ADDRESS_STATE);
    assert_eq!(reply.text("RetailerZip5"), demo::RETURN_ADDRESS_ZIP);
    assert_eq!(reply.text("RetailerZip4"), demo::RETURN_ADDRESS_ZIP4);
}

#[tokio::test]
async fn post_whose_body_is_not_a_form_is_an_xml_syntax_error() {
    let harness = Harness::start().await;
    let response = harness
        .http
        .post(harness.url("/ShippingAPI.dll"))
        .header("content-type", "text/xml")
        .body(request())
        .send()
        .await
        .unwrap();
    let (status, reply) = read(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reply.error().0, "80040B19");
}

#[tokio::test]
async fn unknown_api_is_refused_as_not_a_valid_api_name() {
    let harness = Harness::start().await;
    let (status, reply) = harness.webtools_post("RateV4", &request()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        reply.error(),
        (
            "80040B1A",
            "API Authorization failure. RateV4 is not a valid API name for this protocol."
        )
    );
    assert_eq!(reply.text("Source"), "USPSCOM::DoAuth");
}

#[tokio::test]
async fn missing_or_malformed_xml_is_an_xml_syntax_error() {
    let harness = Harness::start().await;
    let (_, reply) = harness.webtools_post(LABEL, "").await;
    assert_eq!(
        reply.error(),
        (
            "80040B19",
            "XML Syntax Error: Please check the XML request to see if it can be parsed.(B)"
        )
    );
    let truncated = &request()[..200];
    let (_, reply) = harness.webtools_post(LABEL, truncated).await;
    assert_eq!(reply.error().0, "80040B19");
}

#[tokio::test]
async fn credentials_that_match_no_test_user_are_an_authorization_failure() {
    let harness = Harness::start().await;
    let user = format!("USERID=\"{}\"", demo::WEBTOOLS_USER_ID);
    let password = format!("PASSWORD=\"{}\"", demo::WEBTOOLS_PASSWORD);
    let cases = [
        ("unknown user", changed(&user, "USERID=\"000NOBODY000\"")),
        ("wrong password", changed(&password, "PASSWORD=\"guess\"")),
        ("no password", changed(&format!(" {password}"), "")),
        ("no user", changed(&format!("{user} "), "")),
        (
            "password sent for a user without one",
            changed(
                &user,
                &format!("USERID=\"{}\"", demo::WEBTOOLS_SAMPLE_USER_ID),
            ),
        ),
    ];
    for (case, xml) in cases {
        let (_, reply) = harness.webtools_post(LABEL, &xml).await;
        assert_eq!(
            reply.error(),
            (
                "80040B1A",
                "Authorization failure.  Perhaps username and/or password is incorrect."
            ),
            "{case}"
        );
    }
    assert!(harness.simulator().ledger().is_empty());
}

#[tokio::test]
async fn certify_only_user_is_not_authorized_for_billed_labels() {
    let harness = Harness::start().await;
    let xml = changed(
        &format!("USERID=\"{}\"", demo::WEBTOOLS_USER_ID),
        &format!("USERID=\"{}\"", demo::WEBTOOLS_CERTIFY_USER_ID),
    );
    let (_, reply) = harness.webtools_post(LABEL, &xml).await;
    assert_eq!(
        reply.error(),
        (
            "80040B1A",
            "API Authorization failure. User is not authorized to use API USPSReturnsLabel."
        )
    );
    let (_, reply) = harness.webtools_post(CERTIFY, &as_certify(&xml)).await;
    assert_eq!(reply.root, "USPSReturnsLabelCertifyResponse", "{reply:?}");
    assert_valid_barcode(&reply, "40507", demo::SMALL_MID);
}

#[tokio::test]
async fn certify_returns_a_sample_label_without_a_ledger_entry_and_is_counted() {
    let harness = Harness::start().await;
    let (status, reply) = harness
        .webtools_post(CERTIFY, &as_certify(&request()))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reply.root, "USPSReturnsLabelCertifyResponse", "{reply:?}");
    let tracking = assert_valid_barcode(&reply, demo::RETURN_ADDRESS_ZIP, demo::RETURNS_MID);
    assert_eq!(&tracking[14..21], "0000000", "certify labels use serial 0");
    assert!(reply.text("LogMessage").contains("sample label"));
    assert!(reply.image("LabelImage").starts_with(b"%PDF-"));
    assert!(harness.simulator().ledger().is_empty());
    let counts = harness.simulator().counters().route("webtools");
    assert_eq!((counts.calls, counts.ok, counts.error), (1, 1, 0));
}

#[tokio::test]
async fn certify_request_sent_to_the_billed_api_is_refused_for_its_root() {
    let harness = Harness::start().await;
    let (_, reply) = harness.webtools_post(LABEL, &as_certify(&request())).await;
    let (number, description) = reply.error();
    assert_eq!(number, "-2147219081");
    assert!(
        description.contains("'USPSReturnsLabelCertifyRequest'"),
        "{description}"
    );
    assert!(
        description.contains("expected 'USPSReturnsLabelRequest'"),
        "{description}"
    );
}

#[tokio::test]
async fn labels_are_recorded_in_the_ledger_shared_with_v3() {
    let harness = Harness::start().await;
    let v3 = harness.label(&label_body()).await;
    assert_eq!(v3.status(), StatusCode::OK);
    let (_, reply) = harness.webtools_post(LABEL, &request()).await;
    let tracking = assert_valid_barcode(&reply, demo::RETURN_ADDRESS_ZIP, demo::RETURNS_MID);
    let ledger = harness.simulator().ledger();
    assert_eq!(ledger.len(), 2);
    assert_eq!(ledger[0].api, "v3");
    let entry = &ledger[1];
    assert_eq!(entry.api, "webtools");
    assert_eq!(entry.tracking_number, tracking);
    assert_eq!(entry.routing, format!("420{}", demo::RETURN_ADDRESS_ZIP));
    assert_eq!(entry.crid, demo::CRID);
    assert_eq!(entry.mid, demo::RETURNS_MID);
    assert_eq!(entry.mail_class, "GROUND");
    let postage = reply.text("Postage").replace('.', "");
    assert_eq!(entry.postage_cents, postage.parse::<u64>().unwrap());
    assert_eq!(entry.idempotency_key, None);
}

#[tokio::test]
async fn pdf_and_tif_labels_are_real_images_and_a_separate_receipt_comes_as_its_own_image() {
    let harness = Harness::start().await;
    let (_, pdf) = harness.webtools_post(LABEL, &request()).await;
    let bytes = pdf.image("LabelImage");
    assert!(bytes.starts_with(b"%PDF-1.4") && bytes.ends_with(b"%%EOF\n"));
    assert_eq!(pdf.get("ReceiptImage"), None);

    let tif = changed(
        "<ImageType>PDF</ImageType><SeparateReceiptPage>false</SeparateReceiptPage>",
        "<ImageType>TIF</ImageType><SeparateReceiptPage>true</SeparateReceiptPage>",
    );
    let (_, tif) = harness.webtools_post(LABEL, &tif).await;
    assert!(tif.image("LabelImage").starts_with(b"II*\0"));
    assert!(tif.image("ReceiptImage").starts_with(b"II*\0"));
    assert_eq!(
        tif.top_level()[..3],
        ["BarcodeNumber", "LabelImage", "ReceiptImage"]
    );
}

#[tokio::test]
async fn image_type_none_returns_no_image_and_zpl_returns_zpl() {
    let harness = Harness::start().await;
    let none = changed("<ImageType>PDF</ImageType>", "<ImageType>NONE</ImageType>");
    let (_, reply) = harness.webtools_post(LABEL, &none).await;
    assert_eq!(reply.get("LabelImage"), None);
    assert_eq!(reply.get("ReceiptImage"), None);

    let zpl = changed(
        "<ImageType>PDF</ImageType><SeparateReceiptPage>false</SeparateReceiptPage>",
        "<ImageType>ZPL</ImageType><ImageParameter>4X6ZPL300DPI</ImageParameter>",
    );
    let (_, reply) = harness.webtools_post(LABEL, &zpl).await;
    let label = String::from_utf8(reply.image("LabelImage")).unwrap();
    assert!(
        label.starts_with("^XA") && label.trim_end().ends_with("^XZ"),
        "{label}"
    );
}

#[tokio::test]
async fn insurance_is_refused_for_a_non_manifesting_user() {
    let harness = Harness::start().await;
    let xml = changed(
        "<ExtraService>156</ExtraService></ExtraServices>",
        "<ExtraService>100</ExtraService></ExtraServices><InsuredAmount>100</InsuredAmount>",
    )
    .replace(demo::WEBTOOLS_USER_ID, demo::WEBTOOLS_CERTIFY_USER_ID);
    let (_, reply) = harness.webtools_post(CERTIFY, &as_certify(&xml)).await;
    let (number, description) = reply.error();
    assert_eq!(number, "-2147219085");
    assert!(description.contains("manifesting"), "{description}");
}

#[tokio::test]
async fn an_efulfillment_user_must_name_the_postage_type_and_the_retailer() {
    let mut config = SimConfig::default();
    config.webtools_users[0].option = ReturnsOption::Efulfillment;
    let harness = Harness::start_with(config).await;
    let (_, reply) = harness.webtools_post(LABEL, &request()).await;
    assert_eq!(
        reply.error(),
        (
            "-2147217951",
            "Missing value for ReturnsPostageType: eFulfillment users must send 5."
        )
    );
    let xml = changed(
        "<ServiceType>GROUND</ServiceType>",
        "<ServiceType>GROUND</ServiceType><ReturnsPostageType>5</ReturnsPostageType>",
    );
    let (_, reply) = harness.webtools_post(LABEL, &xml).await;
    assert_eq!(
        reply.error(),
        (
            "-2147217951",
            "Missing value for RetailerFirm: it is required with ReturnsPostageType 5."
        )
    );
}

/// One row per rule: what changes in the valid request, the error number, and words the
/// description must contain (the tag and the problem).
/// What changes in the valid request.
type Replacements = &'static [(&'static str, &'static str)];

/// One row per rule: what changes in the valid request, the error number, and words the
/// description must contain (the tag and the problem).
#[rustfmt::skip]
const RULES: &[(Replacements, &str, &[&str])] = &[
    // Unknown, wrong-case and misplaced tags and attributes.
    (&[("<CustomerZip4/>", "<CustomerZip4/><CustomerPhone>2025550123</CustomerPhone>")], "-2147219081", &["invalid child element 'CustomerPhone'", "not a tag of USPSReturnsLabelRequest"]),
    (&[("<CustomerCity>Washington</CustomerCity>", "<customerCity>Washington</customerCity>")], "-2147219081", &["'customerCity'", "case-sensitive", "expected 'CustomerCity'"]),
    (&[("<SenderEmail>returns@example.com</SenderEmail>", "<SenderEMAIL>returns@example.com</SenderEMAIL>")], "-2147219081", &["'SenderEMAIL'", "expected 'SenderEmail'"]),
    (&[("<ImageType>PDF</ImageType>", "<ImageType>PDF</ImageType><ImageFormat>PDF</ImageFormat>")], "-2147219081", &["'ImageParameters'", "'ImageFormat'"]),
    (&[("<Machinable>true</Machinable>", "<ImageType>PDF</ImageType>")], "-2147219081", &["'ImageType'", "not a tag of USPSReturnsLabelRequest"]),
    (&[("PASSWORD=", "Revision=\"2\" PASSWORD=")], "-2147219081", &["invalid attribute 'Revision'"]),
    (&[("USERID=", "UserId=\"x\" USERID=")], "-2147219081", &["invalid attribute 'UserId'", "expected 'USERID'"]),
    (&[("<CustomerCity>", "<CustomerCity ID=\"1\">")], "-2147219081", &["'CustomerCity' has invalid attribute 'ID'"]),
    (&[("<CustomerCity>Washington</CustomerCity>", "<CustomerCity><City>Washington</City></CustomerCity>")], "-2147219081", &["'CustomerCity' has invalid child element 'City'"]),
    // Order and repetition.
    (&[("<WeightInOunces>24</WeightInOunces>\n<ServiceType>GROUND</ServiceType>", "<ServiceType>GROUND</ServiceType>\n<WeightInOunces>24</WeightInOunces>")], "-2147219082", &["'WeightInOunces' after 'ServiceType'", "WeightInOunces comes before ServiceType"]),
    (&[("<CustomerCity>Washington</CustomerCity>\n<CustomerState>DC</CustomerState>", "<CustomerState>DC</CustomerState>\n<CustomerCity>Washington</CustomerCity>")], "-2147219082", &["'CustomerState'", "CustomerCity comes before CustomerState"]),
    (&[("<CustomerCity>Washington</CustomerCity>", "<CustomerCity>Washington</CustomerCity><CustomerCity>Washington</CustomerCity>")], "-2147219082", &["'CustomerCity'", "only once"]),
    (&[("<SeparateReceiptPage>false</SeparateReceiptPage>", "<SeparateReceiptPage>false</SeparateReceiptPage><ImageParameter>4X6</ImageParameter><ImageParameter>SEPARATERECEIPTPAGE</ImageParameter><ImageParameter>4X6</ImageParameter>")], "-2147219082", &["'ImageParameter'", "at most 2 times"]),
    // Missing tags and values.
    (&[("<CustomerAddress1>Apt 2</CustomerAddress1>", "")], "-2147219083", &["required tag 'CustomerAddress1' is missing", "<CustomerAddress1/>"]),
    (&[("<ServiceType>GROUND</ServiceType>", "")], "-2147219083", &["required tag 'ServiceType' is missing"]),
    (&[("<ImageType>PDF</ImageType>", "")], "-2147219083", &["'ImageParameters' has incomplete content", "'ImageType'"]),
    (&[("<CustomerAddress2>1400 L St NW</CustomerAddress2>", "<CustomerAddress2/>")], "-2147217951", &["Missing value for CustomerAddress2."]),
    (&[("<CustomerCity>Washington</CustomerCity>", "<CustomerCity> </CustomerCity>")], "-2147217951", &["Missing value for CustomerCity."]),
    (&[("<ServiceType>GROUND</ServiceType>", "<ServiceType></ServiceType>")], "-2147217951", &["Missing value for ServiceType."]),
    (&[("<ExtraService>156</ExtraService>", "<ExtraService/>")], "-2147217951", &["Missing value for ExtraService."]),
    (&[("<CustomerFirstName>John</CustomerFirstName>", "<CustomerFirstName></CustomerFirstName>")], "-2147217951", &["Missing value for CustomerFirstName."]),
    (&[("<CustomerFirstName>John</CustomerFirstName>\n", "")], "-2147217951", &["Missing value for CustomerFirstName", "CustomerFirm"]),
    // Bad values.
    (&[("<ImageType>PDF</ImageType>", "<ImageType>PNG</ImageType>")], "-2147219084", &["Invalid value for ImageType", "'PNG'", "PDF, TIF, NONE, ZPL"]),
    (&[("<SeparateReceiptPage>false</SeparateReceiptPage>", "<SeparateReceiptPage>no</SeparateReceiptPage>")], "-2147219084", &["Invalid value for SeparateReceiptPage", "true or false"]),
    (&[("<SeparateReceiptPage>false</SeparateReceiptPage>", "<SeparateReceiptPage>false</SeparateReceiptPage><ImageParameter>4X4LABEL</ImageParameter>")], "-2147219084", &["Invalid value for ImageParameter", "'4X4LABEL'"]),
    (&[("<Revision/>", "<Revision>12</Revision>")], "-2147219084", &["Invalid value for Revision", "one digit"]),
    (&[("<CustomerFirstName>John</CustomerFirstName>", "<CustomerFirstName>Johnathan Johnathan Johnathan Johnathan Johnathan J</CustomerFirstName>")], "-2147219084", &["Invalid value for CustomerFirstName", "longer than 50"]),
    (&[("<CustomerCity>Washington</CustomerCity>", "<CustomerCity>Washington Washington Washingto</CustomerCity>")], "-2147219084", &["Invalid value for CustomerCity", "longer than 28"]),
    (&[("<CustomerState>DC</CustomerState>", "<CustomerState>D.C.</CustomerState>")], "-2147219084", &["Invalid value for CustomerState", "two-letter"]),
    (&[("<CustomerZip5>20005</CustomerZip5>", "<CustomerZip5>2005</CustomerZip5>")], "-2147219084", &["Invalid value for CustomerZip5", "'2005' must be 5 digits"]),
    (&[("<CustomerZip4/>", "<CustomerZip4>12</CustomerZip4>")], "-2147219084", &["Invalid value for CustomerZip4", "4 digits"]),
    (&[("<POZipCode/>", "<POZipCode>2000A</POZipCode>")], "-2147219084", &["Invalid value for POZipCode", "5 digits"]),
    (&[("<WeightInOunces>24</WeightInOunces>", "<WeightInOunces>1121</WeightInOunces>")], "-2147219084", &["Invalid value for WeightInOunces", "from 0 to 1120"]),
    (&[("<WeightInOunces>24</WeightInOunces>", "<WeightInOunces>1.5</WeightInOunces>")], "-2147219084", &["Invalid value for WeightInOunces", "whole number"]),
    (&[("<ServiceType>GROUND</ServiceType>", "<ServiceType>Ground</ServiceType>")], "-2147219084", &["Invalid value for ServiceType", "PRIORITY, FIRST CLASS, GROUND"]),
    (&[("<ServiceType>GROUND</ServiceType>", "<ServiceType>GROUND</ServiceType><ReturnsPostageType>4</ReturnsPostageType>")], "-2147219084", &["Invalid value for ReturnsPostageType", "'4'"]),
    (&[("<Width>8</Width>", "<Width>0</Width>")], "-2147219084", &["Invalid value for Width", "greater than 0"]),
    (&[("<Length>12</Length>", "<Length>twelve</Length>")], "-2147219084", &["Invalid value for Length", "number"]),
    (&[("<Height>4</Height>", "<Height>12345678901</Height>")], "-2147219084", &["Invalid value for Height", "10 digits"]),
    (&[("<Machinable>true</Machinable>", "<Machinable>TRUE</Machinable>")], "-2147219084", &["Invalid value for Machinable", "true or false"]),
    (&[("<Machinable>true</Machinable>", "<Machinable>true</Machinable><ShipDate>2020-02-14</ShipDate>")], "-2147219084", &["Invalid value for ShipDate", "14-Feb-2020", "02/14/2020"]),
    (&[("<Machinable>true</Machinable>", "<Machinable>true</Machinable><ShipDate>02/14/2020</ShipDate>")], "-2147219084", &["Invalid value for ShipDate", "today or up to 3 days ahead"]),
    (&[("<Machinable>true</Machinable>", "<Machinable>true</Machinable><VendorCode>12345</VendorCode>")], "-2147219084", &["Invalid value for VendorCode", "longer than 4"]),
    (&[("<Machinable>true</Machinable>", "<Machinable>true</Machinable><MailOwnerMID>12345</MailOwnerMID>")], "-2147219084", &["Invalid value for MailOwnerMID", "9 or 6 digits"]),
    (&[("<CustomerRefNo>RMA-1001</CustomerRefNo>", "<CustomerRefNo>RMA-1001-RMA-1001-RMA-1001-RMA-1</CustomerRefNo>")], "-2147219084", &["Invalid value for CustomerRefNo", "longer than 30"]),
    (&[("<SenderEmail>returns@example.com</SenderEmail>", "<SenderEmail>returns.example.com</SenderEmail>")], "-2147219084", &["Invalid value for SenderEmail", "email"]),
    (&[("<RecipientEmail>john.doe@example.com</RecipientEmail>", "<RecipientEmail>john@example.c</RecipientEmail>")], "-2147219084", &["Invalid value for RecipientEmail", "email"]),
    (&[("<POZipCode/>", "<POZipCode/><RetailerPhone>555-1234</RetailerPhone>")], "-2147219084", &["Invalid value for RetailerPhone", "10 digits"]),
    (&[("<ExtraService>156</ExtraService>", "<ExtraService>920</ExtraService>")], "-2147219084", &["Invalid value for ExtraService", "'920'", "100, 125, 156"]),
    (&[("</ExtraServices>", "</ExtraServices><InsuredAmount>5000.01</InsuredAmount>")], "-2147219084", &["Invalid value for InsuredAmount", "5000.00"]),
    (&[("<ImageParameters>", "<ImageParameters>text")], "-2147219084", &["Invalid value for ImageParameters", "tags, not text"]),
    // Values that are valid alone but not together.
    (&[("<Height>4</Height>\n", "")], "-2147219085", &["Length, Width and Height", "Height missing"]),
    (&[("<Width>8</Width>\n<Length>12</Length>\n<Height>4</Height>", "<Girth>20</Girth>")], "-2147219085", &["Girth needs Length, Width and Height"]),
    (&[("<Length>12</Length>", "<Length>6</Length>")], "-2147219085", &["Length must be the longest"]),
    (&[("<ImageType>PDF</ImageType>", "<ImageType>ZPL</ImageType>")], "-2147219085", &["ImageType ZPL needs ImageParameter"]),
    (&[("<SeparateReceiptPage>false</SeparateReceiptPage>", "<ImageParameter>4X6ZPL203DPI</ImageParameter>")], "-2147219085", &["ImageParameter 4X6ZPL203DPI needs ImageType ZPL, not PDF"]),
    (&[("<ImageType>PDF</ImageType><SeparateReceiptPage>false</SeparateReceiptPage>", "<ImageType>ZPL</ImageType><SeparateReceiptPage>true</SeparateReceiptPage><ImageParameter>4X6ZPL203DPI</ImageParameter>")], "-2147219085", &["SeparateReceiptPage", "ZPL labels come without a receipt"]),
    (&[("<SeparateReceiptPage>false</SeparateReceiptPage>", "<ImageParameter>4X6</ImageParameter><ImageParameter>6X4</ImageParameter>")], "-2147219085", &["ImageParameter", "4X6 and 6X4"]),
    (&[("<ExtraService>156</ExtraService>", "<ExtraService>125</ExtraService>")], "-2147219085", &["ExtraService 125 is not available with GROUND"]),
    (&[("<ServiceType>GROUND</ServiceType>", "<ServiceType>PRIORITY</ServiceType>"), ("<ExtraService>156</ExtraService></ExtraServices>", "<ExtraService>100</ExtraService></ExtraServices><InsuredAmount>50</InsuredAmount>")], "-2147219085", &["ExtraService 100", "PRIORITY"]),
    (&[("<ExtraService>156</ExtraService>", "<ExtraService>156</ExtraService><ExtraService>100</ExtraService>")], "-2147217951", &["Missing value for InsuredAmount"]),
    (&[("<ServiceType>GROUND</ServiceType>", "<ServiceType>GROUND</ServiceType><ReturnsPostageType>5</ReturnsPostageType>")], "-2147219085", &["ReturnsPostageType", "eFulfillment"]),
];

#[tokio::test]
async fn each_documented_rule_is_refused_with_its_number_and_a_description_naming_the_tag() {
    let harness = Harness::start().await;
    let (_, valid) = harness.webtools_post(LABEL, &request()).await;
    assert_eq!(valid.root, "USPSReturnsLabelResponse", "{valid:?}");
    for (replacements, number, words) in RULES {
        let mut xml = request();
        for (from, to) in *replacements {
            assert!(xml.contains(from), "{from:?} is not in the request");
            xml = xml.replacen(from, to, 1);
        }
        let to = replacements[0].1;
        let (status, reply) = harness.webtools_post(LABEL, &xml).await;
        assert_eq!(status, StatusCode::OK, "{to}");
        let (got, description) = reply.error();
        assert_eq!(got, *number, "{to}: {description}");
        for word in *words {
            assert!(
                description.contains(word),
                "{to}: {description:?} lacks {word:?}"
            );
        }
        assert_eq!(reply.text("Source"), LABEL);
        assert_eq!(reply.text("HelpContext"), "1000440");
    }
    assert_eq!(
        harness.simulator().ledger().len(),
        1,
        "only the valid request billed a label"
    );
    let counts = harness.simulator().counters().route("webtools");
    assert_eq!(counts.ok, 1);
    assert_eq!(
        counts.error,
        RULES.len() as u64,
        "Error documents count as errors"
    );
}

#[tokio::test]
async fn ship_date_today_to_three_days_ahead_is_accepted_in_both_forms() {
    let harness = Harness::start().await;
    let today = chrono::Utc::now().date_naive();
    for date in [
        today.format("%m/%d/%Y").to_string(),
        (today + chrono::Duration::days(3))
            .format("%d-%b-%Y")
            .to_string(),
    ] {
        let xml = changed(
            "<Machinable>true</Machinable>",
            &format!("<Machinable>true</Machinable><ShipDate>{date}</ShipDate>"),
        );
        let (_, reply) = harness.webtools_post(LABEL, &xml).await;
        assert_eq!(reply.root, "USPSReturnsLabelResponse", "{date}: {reply:?}");
    }
}

fn rule(fault: Fault, times: Option<u32>) -> FaultRule {
    FaultRule {
        route: "webtools".to_owned(),
        fault,
        times,
        probability: None,
    }
}

#[tokio::test]
async fn status_fault_answers_an_error_document_with_that_status_and_bills_nothing() {
    let harness = Harness::start().await;
    harness
        .simulator()
        .inject(rule(Fault::Status { status: 503 }, Some(1)));
    let response = harness
        .http
        .post(harness.url("/ShippingAPI.dll"))
        .form(&[("API", LABEL), ("XML", request().as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["retry-after"], "1");
    let (status, reply) = read(response).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.error().0, "80004005");
    assert!(harness.simulator().ledger().is_empty());
    let (status, _) = harness.webtools_post(LABEL, &request()).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn rate_limit_fault_is_429_with_retry_after() {
    let harness = Harness::start().await;
    harness
        .simulator()
        .inject(rule(Fault::RateLimit { retry_after_s: 7 }, Some(1)));
    let response = harness
        .http
        .get(harness.query_url(LABEL, &request()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "7");
}

#[tokio::test]
async fn malformed_fault_records_the_label_then_truncates_the_reply() {
    let harness = Harness::start().await;
    harness.simulator().inject(rule(Fault::Malformed, Some(1)));
    let response = harness
        .http
        .post(harness.url("/ShippingAPI.dll"))
        .form(&[("API", LABEL), ("XML", request().as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.text().await.unwrap();
    assert!(body.starts_with("<?xml") && !body.contains("</USPSReturnsLabelResponse>"));
    assert_eq!(harness.simulator().ledger().len(), 1);
}

#[tokio::test]
async fn reset_after_commit_fault_records_the_label_and_cuts_the_connection() {
    let harness = Harness::start().await;
    harness
        .simulator()
        .inject(rule(Fault::ResetAfterCommit, Some(1)));
    let outcome = harness
        .http
        .post(harness.url("/ShippingAPI.dll"))
        .form(&[("API", LABEL), ("XML", request().as_str())])
        .send()
        .await;
    let failed = match outcome {
        Err(_) => true,
        Ok(response) => response.text().await.is_err(),
    };
    assert!(failed, "the client sees a transport error");
    let ledger = harness.simulator().ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].api, "webtools");
}

#[tokio::test]
async fn expired_token_fault_is_refused_for_web_tools_which_has_no_tokens() {
    let harness = Harness::start().await;
    let refused = harness
        .simulator()
        .try_inject(rule(Fault::ExpiredToken, None));
    assert_eq!(refused, Err(FaultRuleError::NoBearerToken));
    harness.simulator().inject(FaultRule {
        route: "*".to_owned(),
        fault: Fault::ExpiredToken,
        times: None,
        probability: None,
    });
    let (_, reply) = harness.webtools_post(LABEL, &request()).await;
    assert_eq!(
        reply.root, "USPSReturnsLabelResponse",
        "wildcard rules skip Web Tools"
    );
}
