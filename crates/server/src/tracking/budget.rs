//! Each API app's hourly tracking call budget, kept in Postgres so that any number of server
//! instances stay within it together: calls are reserved *before* they are made, by one
//! conditional upsert on the app's row for the current clock hour.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sqlx::PgConnection;

/// The clock hour `at` falls in.
pub fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::hours(1)).unwrap_or(at)
}

/// Reserves `calls` calls of `quota_app`'s budget of `per_hour` for the hour of `now`; `false`
/// (nothing reserved) when they would exceed it.
pub async fn reserve(
    connection: &mut PgConnection,
    quota_app: &str,
    calls: u32,
    per_hour: u32,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    if calls == 0 {
        return Ok(true);
    }
    if calls > per_hour {
        return Ok(false);
    }
    let reserved: Option<i32> = sqlx::query_scalar(
        "INSERT INTO carrier_call_budgets (quota_app, hour, calls) VALUES ($1, $2, $3)
         ON CONFLICT (quota_app, hour) DO UPDATE SET calls = carrier_call_budgets.calls + excluded.calls
             WHERE carrier_call_budgets.calls + excluded.calls <= $4
         RETURNING calls",
    )
    .bind(quota_app)
    .bind(hour_of(now))
    .bind(i32::try_from(calls).unwrap_or(i32::MAX))
    .bind(i32::try_from(per_hour).unwrap_or(i32::MAX))
    .fetch_optional(&mut *connection)
    .await?;
    Ok(reserved.is_some())
}

/// Gives back calls reserved but not made (the account could not be opened, say).
pub async fn release(
    connection: &mut PgConnection,
    quota_app: &str,
    calls: u32,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE carrier_call_budgets SET calls = greatest(calls - $3, 0)
         WHERE quota_app = $1 AND hour = $2",
    )
    .bind(quota_app)
    .bind(hour_of(now))
    .bind(i32::try_from(calls).unwrap_or(i32::MAX))
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Calls made by `quota_app` in the hour of `at`.
pub async fn used(
    connection: &mut PgConnection,
    quota_app: &str,
    at: DateTime<Utc>,
) -> Result<u32, sqlx::Error> {
    let calls: Option<i32> = sqlx::query_scalar(
        "SELECT calls FROM carrier_call_budgets WHERE quota_app = $1 AND hour = $2",
    )
    .bind(quota_app)
    .bind(hour_of(at))
    .fetch_optional(&mut *connection)
    .await?;
    Ok(calls.map_or(0, |calls| u32::try_from(calls).unwrap_or(0)))
}

/// Forgets hours long past (the table stays small).
pub async fn forget_before(
    connection: &mut PgConnection,
    before: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM carrier_call_budgets WHERE hour < $1")
            .bind(hour_of(before))
            .execute(&mut *connection)
            .await?
            .rows_affected(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn an_instant_belongs_to_its_clock_hour() {
        let at = Utc.with_ymd_and_hms(2026, 12, 2, 14, 59, 59).unwrap();
        assert_eq!(
            hour_of(at),
            Utc.with_ymd_and_hms(2026, 12, 2, 14, 0, 0).unwrap()
        );
    }
}
