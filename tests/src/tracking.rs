//! Tracking helpers: a label as the API shows it, waiting for a status, counting its events.

use std::time::Duration;

use serde_json::Value;

use crate::TestApp;

impl TestApp {
    /// `GET /v1/return-labels/{id}` with the tenant's key.
    pub async fn label(&self, id: &str) -> Value {
        self.get(&self.tenant_key, &format!("/v1/return-labels/{id}"))
            .await
            .json()
            .await
            .unwrap()
    }

    /// Waits (with a deadline of 10 s) until the label shows `status`; returns it then.
    pub async fn until_label_status(&self, id: &str, status: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let shown = self.label(id).await;
            if shown["status"] == status {
                return shown;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the label never became {status}: {shown}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// How many events of `kind` the event log holds about `subject` (a label or account id).
    pub async fn count_events(&self, subject: &str, kind: &str) -> i64 {
        let mut tx = self.instance.state.db().admin().await.unwrap();
        let count: i64 =
            sqlx::query_scalar("SELECT count(*) FROM events WHERE subject_id = $1 AND type = $2")
                .bind(subject)
                .bind(kind)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
        tx.commit().await.unwrap();
        count
    }
}
