//! The queue consumer: each message's fate is decided on its own
//! (`ingest::store::delivery`), so one message never holds back another.
//!
//! 1. Read each message; one it cannot read (a broken body, a version newer
//!    than this code) is set aside, never acknowledged unread.
//! 2. Ask ClickHouse which events are stored already (a redelivery) and
//!    insert the others; a refused INSERT is bisected until each refused row
//!    stands alone (`Bisect`), and only those are set aside.
//! 3. Recompute the visits of the stored events' visitors, then stamp their
//!    days as changed (a roll of a day older than its change is not read).
//! 4. Ack what is stored; retry the rest after a delay that grows with the
//!    message's age (`RetryBudget`); past the budget, or refused, a message
//!    is set aside in the dead-letter bucket with its reason
//!    ([`super::dead_letters`]), for an operator to replay.
//!
//! The queue `events-dlq` (where Cloudflare moves a message after the queue's
//! own retries, e.g. when this code failed outright) is consumed here too:
//! its messages go to the same bucket.

use super::bindings::DEAD_LETTER_QUEUE_NAME;
use super::{clickhouse, dead_letters, log, metrics};
use crate::config::Config;
use crate::metrics::QueueOutcome;
use ingest::enrich::source::kept_referrer;
use ingest::store::batch::{
    classify, drops_insert, event_id_of_message, read_ids, rows_insert, stored_ids_sql, Delivery,
};
use ingest::store::dead_letter::DeadLetter;
use ingest::store::delivery::{Action, Bisect, Fate};
use ingest::store::visits::{changed_sql, refresh_sql, touched};
use model::message::{QueueMessage, Unreadable};
use model::row::Row;
use std::collections::HashMap;
use worker::{Date, Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder, RawMessage};

/// At most this many INSERTs while looking for refused rows: with 100
/// messages a batch, one refused row takes about 14.
const MAX_INSERTS: usize = 30;

/// One message of the batch as read.
struct Letter {
    raw: RawMessage,
    id: String,
    queued_ms: u64,
    body: String,
    message: Result<QueueMessage, Unreadable>,
}

pub async fn consume(
    batch: MessageBatch<String>,
    env: &Env,
    config: &Config,
) -> worker::Result<()> {
    let now = Date::now().as_millis();
    let letters: Vec<Letter> = batch.raw_iter().map(read).collect();
    if batch.queue() == DEAD_LETTER_QUEUE_NAME {
        let fates = vec![Fate::DeadLetter("the queue's retries ran out".into()); letters.len()];
        // this queue has no dead-letter queue of its own: while the bucket
        // fails, wait an hour between tries (100 tries: four days)
        settle(env, config, &letters, fates, "", now, 3600).await;
        return Ok(());
    }
    let mut fates: Vec<Option<Fate>> = letters
        .iter()
        .map(|letter| match &letter.message {
            Err(unreadable) => Some(Fate::DeadLetter(unreadable.to_string())),
            Ok(_) => None,
        })
        .collect();
    let mut last_error = String::new();

    // the events: which are stored already, then the others, bisected on refusal
    let events: Vec<(usize, &Row)> = letters
        .iter()
        .enumerate()
        .filter_map(|(i, letter)| match &letter.message {
            Ok(QueueMessage::Event(row)) => Some((i, row.as_ref())),
            _ => None,
        })
        .collect();
    if !events.is_empty() {
        let rows: Vec<&Row> = events.iter().map(|(_, row)| *row).collect();
        let stored = match clickhouse::run(&config.clickhouse, &stored_ids_sql(&rows), "").await {
            Ok(answer) if answer.status == 200 => read_ids(&answer.body),
            failed => Err(describe("stored ids", failed)),
        };
        match stored {
            Ok(stored) => {
                // one event may come twice in one batch (two replays of the
                // same dead letter): the second shares the first's fate
                let mut first_of: HashMap<u64, usize> = HashMap::new();
                let mut twins: Vec<(usize, usize)> = Vec::new();
                let mut new: Vec<(usize, &Row)> = Vec::new();
                for &(i, row) in &events {
                    if stored.contains(&row.event_id) {
                        fates[i] = Some(Fate::Stored);
                    } else if let Some(&first) = first_of.get(&row.event_id) {
                        twins.push((i, first));
                    } else {
                        first_of.insert(row.event_id, i);
                        new.push((i, row));
                    }
                }
                for (k, fate) in insert(config, &new, &mut last_error)
                    .await
                    .into_iter()
                    .enumerate()
                {
                    fates[new[k].0] = Some(fate);
                }
                for (twin, first) in twins {
                    fates[twin] = fates[first].clone();
                }
            }
            Err(error) => {
                log::error("queue", &error);
                last_error = error;
            }
        }
        // the visits of every stored event's visitor (again, for one whose
        // refresh failed before): a failure retries those events, whose
        // insert then finds them stored
        let stored: Vec<&Row> = events
            .iter()
            .filter(|(i, _)| fates[*i] == Some(Fate::Stored))
            .map(|(_, row)| *row)
            .collect();
        // then the day's change stamp, after its visits: a roll of the day
        // that began before is no longer read (stats::sql::days)
        for ((site, date), visitors) in touched(stored) {
            let refreshed = match clickhouse::run(
                &config.clickhouse,
                &refresh_sql(&site, &date, &visitors),
                "",
            )
            .await
            {
                Ok(answer) if answer.status == 200 => {
                    clickhouse::run(&config.clickhouse, &changed_sql(&site, &date), "").await
                }
                failed => failed,
            };
            match refreshed {
                Ok(answer) if answer.status == 200 => {}
                failed => {
                    last_error = describe("visits", failed);
                    log::error("queue", &last_error);
                    for (i, row) in &events {
                        if row.site_domain == site
                            && row.date() == date
                            && fates[*i] == Some(Fate::Stored)
                        {
                            fates[*i] = Some(Fate::Retry);
                        }
                    }
                }
            }
        }
    }

    // the drop counts: one INSERT, whose token keeps a resent one stored once
    let drops: Vec<(usize, &model::message::DropCount)> = letters
        .iter()
        .enumerate()
        .filter_map(|(i, letter)| match &letter.message {
            Ok(QueueMessage::Dropped(count)) => Some((i, count)),
            _ => None,
        })
        .collect();
    let body = drops_insert(
        drops.iter().map(|(_, count)| *count),
        drops.iter().map(|(i, _)| letters[*i].id.as_str()),
    );
    if let Some(body) = body {
        let fate = match clickhouse::post(&config.clickhouse, body).await {
            Ok(answer) => match classify(answer.status, answer.exception_code) {
                Delivery::Stored => Fate::Stored,
                Delivery::Retry => {
                    last_error = describe("drop counts", Ok(answer));
                    Fate::Retry
                }
                Delivery::Poison => Fate::DeadLetter(describe("drop counts", Ok(answer))),
            },
            Err(error) => {
                last_error = format!("drop counts: {error}");
                Fate::Retry
            }
        };
        for (i, _) in &drops {
            fates[*i] = Some(fate.clone());
        }
    }

    let fates = fates
        .into_iter()
        .map(|f| f.unwrap_or(Fate::Retry))
        .collect();
    settle(env, config, &letters, fates, &last_error, now, 60).await;
    Ok(())
}

/// Inserts `rows`, bisecting refused INSERTs; each row's fate, in order.
async fn insert(config: &Config, rows: &[(usize, &Row)], last_error: &mut String) -> Vec<Fate> {
    let mut bisect = Bisect::new(rows.len(), MAX_INSERTS);
    while let Some(group) = bisect.next_group() {
        let group_rows: Vec<&Row> = group.iter().map(|&k| rows[k].1).collect();
        let (delivery, error) = match rows_insert(&group_rows) {
            Ok(Some(body)) => match timed_post(config, body).await {
                Ok(answer) => {
                    let delivery = classify(answer.status, answer.exception_code);
                    let error = if delivery == Delivery::Stored {
                        String::new()
                    } else {
                        describe("insert", Ok(answer))
                    };
                    (delivery, error)
                }
                Err(error) => (Delivery::Retry, format!("insert: {error}")),
            },
            Ok(None) => (Delivery::Stored, String::new()),
            // a row that does not serialize is refused data too
            Err(error) => (Delivery::Poison, format!("serializing: {error}")),
        };
        if !error.is_empty() {
            metrics::record(|m| m.insert_errors += 1);
            log::error("queue", &error);
            if delivery == Delivery::Retry {
                *last_error = error.clone();
            }
        }
        bisect.record(group, delivery, &error);
    }
    bisect.fates()
}

/// One INSERT, its latency recorded.
async fn timed_post(
    config: &Config,
    body: String,
) -> std::result::Result<clickhouse::Answer, worker::Error> {
    let started = Date::now().as_millis();
    let answer = clickhouse::post(&config.clickhouse, body).await;
    metrics::record(|m| m.insert_latency.observe(metrics::seconds_since(started)));
    answer
}

/// Acts on each message's fate: ack, retry after its delay, or set it aside
/// (then ack; if the bucket fails, retry after `bucket_retry_seconds`, so
/// nothing is lost).
async fn settle(
    env: &Env,
    config: &Config,
    letters: &[Letter],
    fates: Vec<Fate>,
    last_error: &str,
    now: u64,
    bucket_retry_seconds: u32,
) {
    let (mut stored, mut retried, mut set_aside) = (0, 0, 0);
    let oldest_ms = letters
        .iter()
        .map(|l| now.saturating_sub(l.queued_ms))
        .max();
    metrics::record(|m| {
        for letter in letters {
            m.queue_age
                .observe(now.saturating_sub(letter.queued_ms) as f64 / 1000.0);
        }
        m.queue_oldest_age = oldest_ms.unwrap_or(0) as f64 / 1000.0;
    });
    for (letter, fate) in letters.iter().zip(fates) {
        let age_seconds = now.saturating_sub(letter.queued_ms) / 1000;
        match config.retry_budget.action(fate, age_seconds, last_error) {
            Action::Ack => {
                letter.raw.ack();
                stored += 1;
            }
            Action::RetryAfter(delay) => {
                retry(&letter.raw, delay);
                retried += 1;
            }
            Action::SetAside(reason) => {
                let dead_letter = DeadLetter {
                    reason,
                    body: replayable(letter),
                    queue_message_id: letter.id.clone(),
                    queued_ms: letter.queued_ms,
                    dead_lettered_ms: now,
                };
                match dead_letters::put(env, &dead_letter).await {
                    Ok(()) => {
                        log::error(
                            "queue",
                            format!("set aside {}: {}", dead_letter.key(), dead_letter.reason),
                        );
                        letter.raw.ack();
                        set_aside += 1;
                    }
                    Err(error) => {
                        log::error(
                            "queue",
                            format!("setting aside {}: {error}; retrying it", letter.id),
                        );
                        retry(&letter.raw, bucket_retry_seconds);
                        retried += 1;
                    }
                }
            }
        }
    }
    metrics::record(|m| {
        for (outcome, count) in [
            (QueueOutcome::Stored, stored),
            (QueueOutcome::Retried, retried),
            (QueueOutcome::SetAside, set_aside),
        ] {
            *m.queue_messages.entry(outcome).or_default() += count;
        }
    });
    if retried + set_aside > 0 {
        log::error(
            "queue",
            format!("batch: {stored} stored, {retried} retried, {set_aside} set aside"),
        );
    }
}

fn retry(message: &RawMessage, delay_seconds: u32) {
    message.retry_with_options(
        &QueueRetryOptionsBuilder::new()
            .with_delay_seconds(delay_seconds)
            .build(),
    );
}

/// A message as the queue carries it: its body text; a version-1 event gets
/// its event id (from the queue's id for it, which retries keep) and its
/// referrer cut to host and path, as version 2 queues them; an event queued
/// before channels existed gets its channel.
fn read(raw: RawMessage) -> Letter {
    let id = raw.id();
    let queued_ms = raw.timestamp().as_millis();
    let body = raw.body();
    let body = body.as_string().unwrap_or_else(|| {
        // only this Worker writes the queue as strings: anything else is shown as JSON
        worker::js_sys::JSON::stringify(&body)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default()
    });
    let message = QueueMessage::decode(&body).map(|mut message| {
        if let QueueMessage::Event(row) = &mut message {
            if row.event_id == 0 {
                // version 1: no id yet, and the referrer whole
                row.event_id = event_id_of_message(&id);
                row.attribution.referrer = kept_referrer(&row.attribution.referrer);
            }
            if row.attribution.channel.is_empty() {
                // queued before channels existed (or set aside and replayed): named now
                let a = &row.attribution;
                row.attribution.channel = ingest::enrich::channel::channel(
                    &a.referrer_source,
                    &a.utm_medium,
                    &a.utm_campaign,
                    &a.utm_source,
                    &a.click_id_param,
                )
                .to_string();
            }
        }
        message
    });
    Letter {
        raw,
        id,
        queued_ms,
        body,
        message,
    }
}

/// What a replay queues: the message re-encoded with its event id when it
/// was readable (so it is stored once however often it is replayed), else
/// the body as it came.
fn replayable(letter: &Letter) -> String {
    match &letter.message {
        Ok(message) => message.encode().unwrap_or_else(|_| letter.body.clone()),
        Err(_) => letter.body.clone(),
    }
}

/// A failed statement, for the log and a dead letter's reason: rows hold no
/// IP or User-Agent, so neither can ClickHouse's message about them.
fn describe(what: &str, answer: worker::Result<clickhouse::Answer>) -> String {
    match answer {
        Ok(answer) => format!(
            "{what}: ClickHouse {} (code {:?}): {}",
            answer.status,
            answer.exception_code,
            answer.body.chars().take(300).collect::<String>().trim()
        ),
        Err(error) => format!("{what}: {error}"),
    }
}
