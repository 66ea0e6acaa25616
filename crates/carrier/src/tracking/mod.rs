//! Tracking: the numbers carriers issue ([`number`]), the one normalized status and event every
//! carrier's scans map onto ([`event`]), and the hooks of carriers that push their scans to a
//! listener instead of (or besides) being polled ([`push`]).
//!
//! The split of work: a plugin maps its carrier's codes onto [`TrackingStatus`] and reads and
//! verifies its carrier's notifications; the server stores events once (by
//! [`TrackingEvent::fingerprint`]), derives the label's state from them, schedules polls within
//! the carrier's budget and tells the returns SaaS.

pub mod event;
pub mod number;
pub mod push;

pub use self::event::{
    EventLocation, TrackedLabel, TrackingEvent, TrackingStatus, TrackingSupport,
};
pub use self::number::{TrackingNumber, impb_check_digit, split_impb_barcode};
pub use self::push::{
    AccountSubscription, LabelSubscription, ListenerToken, NotificationError, PushScope,
    PushedEvent, SubscriptionRequest, SubscriptionSecret, SubscriptionState, TrackingPush,
};
