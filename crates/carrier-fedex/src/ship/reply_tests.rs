use base64::Engine;
use serde_json::{Value, json};

use super::*;

const REPLY: &str = "/components/schemas/SHPCResponseVO_ShipShipment";

fn pdf() -> String {
    base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4\n% label\n")
}

pub(crate) fn reply(number: &str, label: Option<String>) -> Value {
    let mut piece = json!({"trackingNumber": number, "masterTrackingNumber": number, "baseRateAmount": 11.2, "netChargeAmount": 12.45});
    if let Some(label) = label {
        piece["packageDocuments"] = json!([{"contentType": "LABEL", "docType": "PDF", "copiesToPrint": 1, "encodedLabel": label}]);
    }
    json!({
        "transactionId": "624deea6-b709-470c-8c39-4b5511281492",
        "output": {
            "transactionShipments": [{
                "serviceType": "FEDEX_GROUND",
                "shipDatestamp": "2026-12-01",
                "masterTrackingNumber": number,
                "pieceResponses": [piece],
                "completedShipmentDetail": {
                    "completedPackageDetails": [{
                        "sequenceNumber": 1,
                        "trackingIds": [{"trackingIdType": "FEDEX", "trackingNumber": number}],
                        "packageRating": {
                            "actualRateType": "PAYOR_ACCOUNT_PACKAGE",
                            "packageRateDetails": [
                                {"rateType": "PAYOR_LIST_PACKAGE", "baseCharge": 20.0, "netCharge": 25.0, "currency": "USD"},
                                {"rateType": "PAYOR_ACCOUNT_PACKAGE", "baseCharge": 11.2, "totalFreightDiscounts": 1.0, "totalSurcharges": 1.75, "totalTaxes": 0.5, "netCharge": 12.45, "currency": "USD"}
                            ]
                        }
                    }]
                }
            }],
            "alerts": [{"code": "SHIPMENT.VALIDATION.SUCCESS", "alertType": "NOTE", "message": "Shipment validated successfully. No errors found."}]
        }
    })
}

#[test]
fn the_test_replies_match_the_files_reply_schema() {
    let validator = crate::spec::validator("Shipment-Resource.json", REPLY);
    crate::spec::assert_valid(&validator, &reply("794953555571", Some(pdf())));
    crate::spec::assert_valid(&validator, &reply("794953555571", None));
}

#[test]
fn a_reply_gives_the_number_the_label_and_the_actual_rates() {
    let parsed = parse(
        reply("794953555571", Some(pdf())).to_string().as_bytes(),
        LabelFormat::Pdf,
        false,
    )
    .unwrap();
    assert_eq!(parsed.tracking_number.as_str(), "794953555571");
    assert!(parsed.label.unwrap().bytes.starts_with(b"%PDF-"));
    assert_eq!(parsed.charges.postage(), Money::usd_cents(1120));
    assert_eq!(parsed.charges.total(), Money::usd_cents(1245));
    assert_eq!(parsed.charges.fees().len(), 3);
    assert_eq!(parsed.charges.fees()[0].amount, Money::usd_cents(-100));
    assert!(
        parsed
            .warnings
            .iter()
            .any(|w| w.code == "fedex_alert_shipment_validation_success")
    );
    assert!(
        !parsed
            .warnings
            .iter()
            .any(|w| w.code == "charges_do_not_add_up")
    );
}

#[test]
fn a_bad_number_or_a_missing_label_is_malformed() {
    for (body, emailed) in [
        (reply("794953555572", Some(pdf())), false),
        (reply("794953555571", None), false),
        (reply("794953555571", Some("not base64!".into())), false),
        (json!({"output": {"transactionShipments": []}}), false),
    ] {
        let error = parse(body.to_string().as_bytes(), LabelFormat::Pdf, emailed).unwrap_err();
        assert!(
            matches!(
                error,
                Error::Malformed {
                    operation: Operation::Ship,
                    ..
                }
            ),
            "{error}"
        );
    }
    let png = parse(
        reply("794953555571", Some(pdf())).to_string().as_bytes(),
        LabelFormat::Png,
        false,
    );
    assert!(png.is_err(), "a PDF is not the PNG asked for");
}

#[test]
fn an_emailed_label_comes_without_an_image() {
    let parsed = parse(
        reply("794953555571", None).to_string().as_bytes(),
        LabelFormat::Pdf,
        true,
    )
    .unwrap();
    assert!(parsed.label.is_none());
    assert_eq!(parsed.charges.total(), Money::usd_cents(1245));
}

#[test]
fn cancel_replies_read_as_the_file_describes_them() {
    use crate::ship::cancel::{CancelOutcome, parse};
    let validator = crate::spec::validator(
        "Shipment-Resource.json",
        "/components/schemas/SHPCResponseVO_CancelShipment",
    );
    let ok = json!({"transactionId": "t", "output": {"cancelledShipment": true, "cancelledHistory": true, "message": "Shipment is successfully cancelled"}});
    crate::spec::assert_valid(&validator, &ok);
    assert_eq!(
        parse(ok.to_string().as_bytes()).unwrap(),
        CancelOutcome::Cancelled
    );
    let refused =
        json!({"output": {"cancelledShipment": false, "message": "Shipment already picked up"}});
    let CancelOutcome::NotCancelled(messages) = parse(refused.to_string().as_bytes()).unwrap()
    else {
        panic!("refused");
    };
    assert!(crate::error::cancel_refusal(&messages));
}
