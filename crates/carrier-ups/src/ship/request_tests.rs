//! The mapping of the neutral request onto the Ship request.

use carrier::{
    Address, AddressInput, NotifyInput, ParcelInput, ReturnLabelInput, ReturnLabelRequest,
};
use secrecy::SecretString;
use serde_json::Value;

use super::*;
use crate::account::{Auth, UpsAccount};

pub(crate) fn return_address() -> Address {
    Address::parse(
        "details.return_address",
        &AddressInput {
            firm: Some("Acme Returns".into()),
            first_name: Some("Rita".into()),
            last_name: Some("Receiver".into()),
            street1: Some("1100 Wyoming St".into()),
            city: Some("Saint Louis".into()),
            state: Some("MO".into()),
            zip5: Some("63118".into()),
            phone: Some("314-555-0199".into()),
            ..AddressInput::default()
        },
    )
    .unwrap()
}

pub(crate) fn account() -> UpsAccount {
    UpsAccount {
        id: "sa_test".into(),
        account_number: "A1B2C3".into(),
        return_address: return_address(),
        auth: Auth::OwnApp {
            client_id: "app".into(),
            client_secret: SecretString::from("secret"),
        },
    }
}

pub(crate) fn input() -> ReturnLabelInput {
    ReturnLabelInput {
        service: Some("ups_ground_return".into()),
        from_address: Some(AddressInput {
            first_name: Some("Jane".into()),
            last_name: Some("Doe".into()),
            street1: Some("350 5th Ave".into()),
            city: Some("New York".into()),
            state: Some("NY".into()),
            zip5: Some("10118".into()),
            ..AddressInput::default()
        }),
        parcel: Some(ParcelInput {
            weight_oz: Some("24".parse().unwrap()),
            length_in: Some("10".parse().unwrap()),
            width_in: Some("7.2".parse().unwrap()),
            height_in: Some("12".parse().unwrap()),
            girth_in: None,
            machinable: None,
        }),
        reference: Some("RMA-1001".into()),
        notify: Some(NotifyInput {
            recipient_email: Some("jane@example.com".into()),
            ..NotifyInput::default()
        }),
        ..ReturnLabelInput::default()
    }
}

fn prepared(input: &ReturnLabelInput) -> Result<(PreparedShipment, Value), ValidationErrors> {
    let request = ReturnLabelRequest::parse(input)?;
    let prepared = prepare(&account(), &request, "order-1001-return")?;
    let body = serde_json::from_slice(&prepared.body).unwrap();
    Ok((prepared, body))
}

fn shipment(input: &ReturnLabelInput) -> Value {
    prepared(input).unwrap().1["ShipmentRequest"]["Shipment"].clone()
}

#[test]
fn a_print_return_label_ships_from_the_customer_to_the_return_address_billed_to_the_account() {
    let shipment = shipment(&input());
    assert_eq!(shipment["ReturnService"]["Code"], "9");
    assert_eq!(shipment["Service"]["Code"], "03");
    assert_eq!(shipment["ShipFrom"]["Name"], "Jane Doe");
    assert_eq!(
        shipment["ShipFrom"]["Address"]["AddressLine"][0],
        "350 5th Ave"
    );
    assert_eq!(shipment["ShipFrom"]["Address"]["CountryCode"], "US");
    assert_eq!(shipment["ShipTo"]["Name"], "Acme Returns");
    assert_eq!(shipment["ShipTo"]["AttentionName"], "Rita Receiver");
    assert_eq!(shipment["ShipTo"]["Phone"]["Number"], "3145550199");
    assert_eq!(shipment["Shipper"]["ShipperNumber"], "A1B2C3");
    assert_eq!(
        shipment["Shipper"]["Address"],
        shipment["ShipTo"]["Address"]
    );
    let charge = &shipment["PaymentInformation"]["ShipmentCharge"][0];
    assert_eq!(charge["Type"], "01");
    assert_eq!(charge["BillShipper"]["AccountNumber"], "A1B2C3");
    assert!(shipment.get("ShipmentServiceOptions").is_none());
}

#[test]
fn every_service_maps_to_its_ups_code() {
    for (ours, ups) in [
        ("ups_ground_return", "03"),
        ("ups_3_day_select_return", "12"),
        ("ups_2nd_day_air_return", "02"),
        ("ups_next_day_air_return", "01"),
    ] {
        let mut input = input();
        input.service = Some(ours.into());
        assert_eq!(shipment(&input)["Service"]["Code"], ups, "{ours}");
    }
}

#[test]
fn weights_go_in_pounds_rounded_up_to_a_tenth_and_sides_in_whole_inches_longest_first() {
    let package = &shipment(&input())["Package"][0];
    assert_eq!(package["PackageWeight"]["UnitOfMeasurement"]["Code"], "LBS");
    assert_eq!(package["PackageWeight"]["Weight"], "1.5");
    assert_eq!(package["Dimensions"]["UnitOfMeasurement"]["Code"], "IN");
    assert_eq!(package["Dimensions"]["Length"], "12");
    assert_eq!(package["Dimensions"]["Width"], "10");
    assert_eq!(package["Dimensions"]["Height"], "8");
    assert_eq!(package["Packaging"]["Code"], "02");
    let mut light = input();
    light.parcel.as_mut().unwrap().weight_oz = Some("1".parse().unwrap());
    assert_eq!(
        shipment(&light)["Package"][0]["PackageWeight"]["Weight"],
        "0.1"
    );
}

#[test]
fn the_reference_is_the_package_description_and_a_default_stands_in() {
    assert_eq!(shipment(&input())["Package"][0]["Description"], "RMA-1001");
    let mut none = input();
    none.reference = None;
    assert_eq!(
        shipment(&none)["Package"][0]["Description"],
        DEFAULT_DESCRIPTION
    );
    let mut long = input();
    long.reference = Some("R".repeat(40));
    let (prepared, body) = prepared(&long).unwrap();
    assert_eq!(
        body["ShipmentRequest"]["Shipment"]["Package"][0]["Description"],
        "R".repeat(35)
    );
    assert_eq!(prepared.warnings[0].field.as_deref(), Some("reference"));
}

#[test]
fn an_emailed_label_is_an_electronic_return_label_sent_to_the_recipient() {
    let mut input = input();
    input.label_delivery = Some("email".into());
    let shipment = shipment(&input);
    assert_eq!(shipment["ReturnService"]["Code"], "8");
    assert_eq!(
        shipment["ShipmentServiceOptions"]["LabelDelivery"]["EMail"]["EMailAddress"],
        "jane@example.com"
    );
}

#[test]
fn an_emailed_label_without_a_recipient_is_refused_on_notify_recipient_email() {
    let mut input = input();
    input.label_delivery = Some("email".into());
    input.notify = None;
    let request = ReturnLabelRequest {
        label_delivery: LabelDelivery::Email,
        ..ReturnLabelRequest::parse(&ReturnLabelInput {
            label_delivery: None,
            ..input
        })
        .unwrap()
    };
    let errors = prepare(&account(), &request, "k").unwrap_err();
    assert!(errors.names("notify.recipient_email"), "{errors}");
}

#[test]
fn a_qr_code_is_refused_on_label_delivery() {
    let mut input = input();
    input.label_delivery = Some("qr_code".into());
    assert!(prepared(&input).unwrap_err().names("label_delivery"));
}

#[test]
fn gif_is_asked_for_pdf_png_and_gif_and_zpl_for_zpl() {
    for (format, code, agent) in [
        ("PDF", "GIF", true),
        ("PNG", "GIF", true),
        ("GIF", "GIF", true),
        ("ZPL", "ZPL", false),
    ] {
        let mut input = input();
        input.label_format = Some(format.into());
        let (_, body) = prepared(&input).unwrap();
        let spec = &body["ShipmentRequest"]["LabelSpecification"];
        assert_eq!(spec["LabelImageFormat"]["Code"], code, "{format}");
        assert_eq!(spec.get("HTTPUserAgent").is_some(), agent, "{format}");
        assert_eq!(spec["LabelStockSize"]["Height"], "6");
        assert_eq!(spec["LabelStockSize"]["Width"], "4");
    }
}

#[test]
fn what_ups_cannot_do_is_refused_by_field_before_sending() {
    let mut input = input();
    input.label_format = Some("TIF".into());
    input.receipt = Some("same_page".into());
    input.service = Some("ups_worldwide_express_return".into());
    let from = input.from_address.as_mut().unwrap();
    from.street1 = Some("x".repeat(36));
    from.city = Some("c".repeat(31));
    let errors = prepared(&input).unwrap_err();
    for field in [
        "label_format",
        "receipt",
        "service",
        "from_address.street1",
        "from_address.city",
    ] {
        assert!(errors.names(field), "{field}: {errors}");
    }
}

#[test]
fn phone_numbers_go_as_ten_digits_and_others_are_refused_on_phone() {
    let mut input = input();
    input.from_address.as_mut().unwrap().phone = Some("+1 (212) 555-0100".into());
    assert_eq!(
        shipment(&input)["ShipFrom"]["Phone"]["Number"],
        "2125550100"
    );
    input.from_address.as_mut().unwrap().phone = Some("555-0100".into());
    assert!(prepared(&input).unwrap_err().names("from_address.phone"));
}

#[test]
fn a_customer_outside_the_us_is_refused_on_from_address_country() {
    let mut input = input();
    let from = input.from_address.as_mut().unwrap();
    from.country = Some("CA".into());
    from.state = Some("ON".into());
    from.zip5 = None;
    from.postal_code = Some("K1A 0B1".into());
    let errors = prepared(&input).unwrap_err();
    assert!(errors.names("from_address.country"), "{errors}");
}

#[test]
fn parcels_over_ups_limits_are_refused_on_their_fields() {
    let mut long = input();
    long.parcel.as_mut().unwrap().width_in = Some("109".parse().unwrap());
    assert!(prepared(&long).unwrap_err().names("parcel.width_in"));
    let mut girthy = input();
    let parcel = girthy.parcel.as_mut().unwrap();
    parcel.length_in = Some("60".parse().unwrap());
    parcel.width_in = Some("30".parse().unwrap());
    parcel.height_in = Some("30".parse().unwrap());
    assert!(prepared(&girthy).unwrap_err().names("parcel.length_in"));
    let mut heavy = input();
    heavy.parcel.as_mut().unwrap().weight_oz = Some("16000".parse().unwrap());
    assert!(prepared(&heavy).unwrap_err().names("parcel.weight_oz"));
}

#[test]
fn the_ship_date_goes_as_yyyymmdd_and_the_key_as_customer_context() {
    let mut input = input();
    input.ship_date = Some("2026-12-03".parse().unwrap());
    let (_, body) = prepared(&input).unwrap();
    assert_eq!(
        body["ShipmentRequest"]["Shipment"]["ShipmentDate"],
        "20261203"
    );
    assert_eq!(
        body["ShipmentRequest"]["Request"]["TransactionReference"]["CustomerContext"],
        "order-1001-return"
    );
    // The key also goes on the package, where UPS's shipping history shows it.
    assert_eq!(
        body["ShipmentRequest"]["Shipment"]["Package"][0]["ReferenceNumber"],
        serde_json::json!([{"Value": "order-1001-return"}])
    );
}

#[test]
fn a_long_key_is_cut_to_the_reference_numbers_35_characters() {
    let shipment = |key: &str| {
        let request = ReturnLabelRequest::parse(&input()).unwrap();
        let prepared = prepare(&account(), &request, key).unwrap();
        let body: Value = serde_json::from_slice(&prepared.body).unwrap();
        body["ShipmentRequest"]["Shipment"]["Package"][0]["ReferenceNumber"][0]["Value"].clone()
    };
    let key = "0123456789abcdef".repeat(4);
    assert_eq!(shipment(&key), serde_json::json!(&key[..35]));
}
