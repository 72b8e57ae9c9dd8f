//! The queue consumer: each batch becomes one INSERT of rows (and one of drop
//! counts) whose deduplication token comes from the batch's message ids, so a
//! redelivered batch is stored once.
//! Outages retry with backoff; data ClickHouse refuses goes to the dead-letter
//! queue after the queue's retries (wrangler.toml). Once stored, the visits of
//! the batch's visitors are recomputed (`ingest::store::visits`); a failure there
//! retries the batch too (its inserts are deduplicated, the recompute is
//! idempotent).

use super::clickhouse;
use crate::config::Config;
use ingest::store::batch::{classify, dedup_token, insert_bodies, Delivery};
use ingest::store::visits::{refresh_sql, touched};
use model::message::QueueMessage;
use worker::{console_error, Date, MessageBatch, MessageExt, QueueRetryOptionsBuilder, Result};

pub async fn consume(batch: MessageBatch<String>, config: &Config) -> Result<()> {
    let messages = batch.messages()?;
    let ids: Vec<String> = messages.iter().map(|m| m.id()).collect();
    let mut parsed = Vec::with_capacity(messages.len());
    for message in &messages {
        match QueueMessage::decode(message.body()) {
            Ok(m) => parsed.push(m),
            // only this Worker writes the queue, so this is a deploy mismatch: say so
            Err(error) => console_error!("queue message {} is not readable: {error}", message.id()),
        }
    }
    let token = dedup_token(ids.iter().map(String::as_str));
    let bodies =
        insert_bodies(&token, &parsed).map_err(|e| worker::Error::RustError(e.to_string()))?;
    // every insert must be stored before the batch is acked; a retried batch
    // re-sends all of them and the tokens keep each stored once
    let mut delivery = Delivery::Stored;
    for body in bodies {
        delivery = match clickhouse::post(&config.clickhouse, body).await {
            Ok(answer) => {
                let delivery = classify(answer.status, answer.exception_code);
                if delivery != Delivery::Stored {
                    // rows hold no IP or User-Agent, so neither can ClickHouse's message
                    let message: String = answer.body.chars().take(300).collect();
                    console_error!(
                        "insert: ClickHouse {} (code {:?}): {message}",
                        answer.status,
                        answer.exception_code
                    );
                }
                delivery
            }
            Err(error) => {
                console_error!("insert: {error}");
                Delivery::Retry
            }
        };
        if delivery != Delivery::Stored {
            break;
        }
    }
    if delivery == Delivery::Stored {
        let rows = parsed.iter().filter_map(|m| match m {
            QueueMessage::Event(row) => Some(row.as_ref()),
            _ => None,
        });
        for ((site, date), visitors) in touched(rows) {
            let sql = refresh_sql(&site, &date, &visitors);
            let refreshed = match clickhouse::run(&config.clickhouse, &sql, "").await {
                Ok(answer) if answer.status == 200 => true,
                Ok(answer) => {
                    console_error!(
                        "visits: ClickHouse {} (code {:?})",
                        answer.status,
                        answer.exception_code
                    );
                    false
                }
                Err(error) => {
                    console_error!("visits: {error}");
                    false
                }
            };
            if !refreshed {
                delivery = Delivery::Retry;
                break;
            }
        }
    }
    match delivery {
        Delivery::Stored => batch.ack_all(),
        // backoff grows with the batch's age (workers-rs exposes no attempt
        // count): half the age, 5 s to 5 min; after max_retries the queue
        // moves the batch to the dead-letter queue
        Delivery::Retry | Delivery::Poison => {
            let now = Date::now().as_millis();
            let oldest = messages
                .iter()
                .map(|m| m.timestamp().as_millis())
                .min()
                .unwrap_or(now);
            let delay = (now.saturating_sub(oldest) / 2000).clamp(5, 300) as u32;
            batch.retry_all_with_options(
                &QueueRetryOptionsBuilder::new()
                    .with_delay_seconds(delay)
                    .build(),
            );
        }
    }
    Ok(())
}
