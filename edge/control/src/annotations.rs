//! Annotations: dated notes on a site's chart (a portal upgrade, a plugin
//! rollout), written by the site's admins, read by everyone who reads the
//! site. Pure: a request body in, a [`Change`] out.

use crate::people::{may, Actor, Need, PeopleError};
use crate::settings::Change;
use model::hex::encode;
use model::settings::{Annotation, Store};
use model::time::is_date;
use serde_json::Value;

/// How many notes one site keeps.
pub const MAX_ANNOTATIONS: usize = 500;
/// The longest note, in characters.
pub const MAX_TEXT_CHARS: usize = 300;
/// Random bytes of an annotation's id.
pub const ID_BYTES: usize = 8;

fn refuse<T>(status: u16, message: impl Into<String>) -> Result<T, PeopleError> {
    Err(PeopleError {
        status,
        message: message.into(),
    })
}

/// `POST /api/admin/sites/:domain/annotations` `{date, text}`; `by` is how
/// the audit log names the actor.
pub fn annotate(
    store: &Store,
    actor: &Actor,
    by: &str,
    site: &str,
    body: &[u8],
    random: &[u8; ID_BYTES],
    now_ms: u64,
) -> Result<Change, PeopleError> {
    if !may(actor, site, Need::Manage) {
        return refuse(403, format!("{site}: you need the admin role"));
    }
    if !store.is_site(site) {
        return refuse(404, format!("no site {site:?}"));
    }
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
        return refuse(400, "the body must be a JSON object {date, text}");
    };
    if let Some(unknown) = object.keys().find(|k| *k != "date" && *k != "text") {
        return refuse(
            400,
            format!("unknown field {unknown:?}: the fields are date, text"),
        );
    }
    let date = match object.get("date") {
        Some(Value::String(date)) => date.clone(),
        other => {
            return refuse(
                400,
                format!(
                    "date: {} is not a date (YYYY-MM-DD)",
                    other.map_or("nothing".into(), Value::to_string)
                ),
            )
        }
    };
    let text = match object.get("text") {
        Some(Value::String(text)) => text.trim().to_string(),
        _ => String::new(),
    };
    if let Err(message) = check(&date, &text) {
        return refuse(400, message);
    }
    if store.annotations.iter().filter(|a| a.site == site).count() >= MAX_ANNOTATIONS {
        return refuse(
            409,
            format!("{site} has {MAX_ANNOTATIONS} annotations: remove one first"),
        );
    }
    Ok(Change::Annotate(Annotation {
        id: encode(random),
        site: site.to_string(),
        date,
        text,
        by: by.to_string(),
        created_ms: now_ms,
    }))
}

/// A note's date and text as the API takes them (and an import checks
/// them): the message names the field.
pub fn check(date: &str, text: &str) -> Result<(), String> {
    if !is_date(date) {
        return Err(format!("date: {date:?} is not a date (YYYY-MM-DD)"));
    }
    if text.is_empty()
        || text.chars().count() > MAX_TEXT_CHARS
        || text.chars().any(char::is_control)
    {
        return Err(format!(
            "text: 1 to {MAX_TEXT_CHARS} characters, on one line"
        ));
    }
    Ok(())
}

/// `DELETE /api/admin/sites/:domain/annotations/:id`.
pub fn remove(store: &Store, actor: &Actor, site: &str, id: &str) -> Result<Change, PeopleError> {
    if !may(actor, site, Need::Manage) {
        return refuse(403, format!("{site}: you need the admin role"));
    }
    if !store
        .annotations
        .iter()
        .any(|a| a.id == id && a.site == site)
    {
        return refuse(404, format!("no annotation {id:?} on {site}"));
    }
    Ok(Change::RemoveAnnotation { id: id.to_string() })
}

/// A site's notes, by date.
pub fn of_site<'a>(store: &'a Store, site: &str) -> Vec<&'a Annotation> {
    let mut notes: Vec<&Annotation> = store
        .annotations
        .iter()
        .filter(|a| a.site == site)
        .collect();
    notes.sort_by(|a, b| (&a.date, a.created_ms).cmp(&(&b.date, b.created_ms)));
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::apply;
    use model::settings::{Role, Site, User};

    fn person(id: &str, role: Role) -> User {
        User {
            id: id.into(),
            email: format!("{id}@example.com"),
            name: id.into(),
            password: String::new(),
            super_admin: false,
            roles: [("a.example".to_string(), role)].into_iter().collect(),
            second_factor: None,
            created_ms: 0,
            last_login_ms: None,
            sso_subject: None,
        }
    }

    fn store() -> Store {
        Store {
            sites: vec![Site::new("a.example"), Site::new("b.example")],
            users: vec![person("viewer", Role::Viewer), person("admin", Role::Admin)],
            ..Store::default()
        }
    }

    #[test]
    fn admins_add_and_remove_notes_viewers_do_not() {
        let store = store();
        let admin = Actor::User(&store.users[1]);
        let body = br#"{"date":"2026-11-03","text":"Backstage 1.32 rolled out"}"#;
        let change = annotate(
            &store,
            &admin,
            "admin@example.com",
            "a.example",
            body,
            &[7; ID_BYTES],
            5,
        )
        .unwrap();
        let next = apply(&store, change).unwrap();
        let notes = of_site(&next, "a.example");
        assert_eq!(
            (
                notes[0].date.as_str(),
                notes[0].text.as_str(),
                notes[0].by.as_str()
            ),
            (
                "2026-11-03",
                "Backstage 1.32 rolled out",
                "admin@example.com"
            )
        );
        assert!(of_site(&next, "b.example").is_empty());
        let viewer = Actor::User(&store.users[0]);
        let refused = annotate(&store, &viewer, "v", "a.example", body, &[1; ID_BYTES], 5);
        assert_eq!(refused.unwrap_err().status, 403);
        assert_eq!(
            remove(&next, &viewer, "a.example", &notes[0].id)
                .unwrap_err()
                .status,
            403
        );
        // another site's note is not this site's to remove
        assert_eq!(
            remove(&next, &Actor::Installation, "b.example", &notes[0].id)
                .unwrap_err()
                .status,
            404
        );
        let removed = apply(
            &next,
            remove(&next, &admin, "a.example", &notes[0].id).unwrap(),
        )
        .unwrap();
        assert!(removed.annotations.is_empty());
    }

    #[test]
    fn bad_notes_name_the_field() {
        let store = store();
        for (body, status, message) in [
            (
                &br#"{"date":"03.11.2026","text":"x"}"#[..],
                400,
                "date: \"03.11.2026\" is not a date",
            ),
            (br#"{"text":"x"}"#, 400, "date: nothing is not a date"),
            (
                br#"{"date":"2026-11-03","text":""}"#,
                400,
                "text: 1 to 300 characters",
            ),
            (
                br#"{"date":"2026-11-03","text":"a\nb"}"#,
                400,
                "text: 1 to 300",
            ),
            (
                br#"{"date":"2026-11-03","text":"x","by":"me"}"#,
                400,
                "unknown field \"by\"",
            ),
            (br#"[]"#, 400, "the body must be a JSON object"),
        ] {
            let error = annotate(
                &store,
                &Actor::Installation,
                "admin",
                "a.example",
                body,
                &[0; ID_BYTES],
                1,
            )
            .unwrap_err();
            assert_eq!(error.status, status);
            assert!(error.message.starts_with(message), "{}", error.message);
        }
        let long = format!(r#"{{"date":"2026-11-03","text":"{}"}}"#, "x".repeat(301));
        assert!(annotate(
            &store,
            &Actor::Installation,
            "admin",
            "a.example",
            long.as_bytes(),
            &[0; ID_BYTES],
            1
        )
        .is_err());
        assert_eq!(
            annotate(
                &store,
                &Actor::Installation,
                "admin",
                "c.example",
                br#"{}"#,
                &[0; ID_BYTES],
                1
            )
            .unwrap_err()
            .status,
            404
        );
    }
}
