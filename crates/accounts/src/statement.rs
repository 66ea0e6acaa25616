//! Rows of several modules written in one statement, one round trip: a module offers its
//! INSERT as a data-modifying `WITH` item whose parameters are numbered from a `$n` the caller
//! gives, with a `bind` that binds its values in that order. The label's last transaction is
//! one such statement (the label, its key's answer, its outbox event and deliveries, its audit
//! event and its tracking job), where it was five.
//!
//! Every item of a `WITH` runs, whether or not the main statement reads it, against the same
//! snapshot; foreign keys and other AFTER triggers are checked once the whole statement has
//! run, so an item may refer to a row another item inserts.

use sqlx::Postgres;
use sqlx::postgres::PgArguments;

/// A statement being bound.
pub type Query<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// `$first, $first+1, …`: the markers of `count` parameters.
pub fn params(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_from_the_first() {
        assert_eq!(params(1, 3), "$1, $2, $3");
        assert_eq!(params(28, 2), "$28, $29");
        assert_eq!(params(5, 0), "");
    }
}
