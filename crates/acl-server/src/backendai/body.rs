//! Request parameters as the client versions send them: a JSON object body (also on GET),
//! an empty body, or the query string; each field under any of its aliases (`perm` and
//! `permission`, `user_ids` and `emails`, ...). Unknown fields are ignored, as the
//! manager ignores them; a field of the wrong type is a 400 naming it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use serde_json::{Map, Value};

use super::problem::{Answer, Problem};
use crate::app::App;

/// The parameters of one request: the body's fields over the query's.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fields(Map<String, Value>);

impl Fields {
    /// The parameters of a body (empty, `null` or a JSON object) and a query string; the
    /// body wins where both name a field.
    pub fn parse(body: &[u8], query: Option<&str>) -> Answer<Fields> {
        let mut fields = Map::new();
        if let Some(query) = query {
            for (key, value) in form_urlencoded::parse(query.as_bytes()) {
                fields.insert(key.into_owned(), Value::String(value.into_owned()));
            }
        }
        if !body.trim_ascii().is_empty() {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(map)) => fields.extend(map),
                Ok(Value::Null) => {}
                Ok(_) => {
                    return Err(Problem::bad_request(
                        "the request body must be a JSON object",
                    ));
                }
                Err(err) => {
                    return Err(Problem::bad_request(format!(
                        "the request body is not JSON: {err}"
                    )));
                }
            }
        }
        Ok(Fields(fields))
    }

    /// The first of `names` present and not `null`, with the name it came under.
    fn get(&self, names: &[&'static str]) -> Option<(&'static str, &Value)> {
        names.iter().find_map(|name| match self.0.get(*name) {
            None | Some(Value::Null) => None,
            Some(value) => Some((*name, value)),
        })
    }

    /// The text under one of `names`, if given.
    pub fn text(&self, names: &[&'static str]) -> Answer<Option<String>> {
        match self.get(names) {
            None => Ok(None),
            Some((_, Value::String(text))) => Ok(Some(text.clone())),
            Some((name, _)) => Err(Problem::invalid(format!("`{name}` must be a string"))),
        }
    }

    /// The text under one of `names`; missing is a 400 naming the first.
    pub fn required(&self, names: &[&'static str]) -> Answer<String> {
        self.text(names)?.ok_or_else(|| {
            Problem::invalid(format!("`{}` is missing", names.first().unwrap_or(&"?")))
        })
    }

    /// The texts under one of `names` (a list of strings, or one string), if given.
    pub fn texts(&self, names: &[&'static str]) -> Answer<Option<Vec<String>>> {
        match self.get(names) {
            None => Ok(None),
            Some((_, Value::String(text))) => Ok(Some(vec![text.clone()])),
            Some((name, Value::Array(items))) => items
                .iter()
                .map(|item| match item {
                    Value::String(text) => Ok(text.clone()),
                    _ => Err(Problem::invalid(format!(
                        "`{name}` must be a list of strings"
                    ))),
                })
                .collect::<Answer<Vec<_>>>()
                .map(Some),
            Some((name, _)) => Err(Problem::invalid(format!(
                "`{name}` must be a list of strings"
            ))),
        }
    }

    /// The non-empty list under one of `names`; missing or empty is a 400.
    pub fn required_texts(&self, names: &[&'static str]) -> Answer<Vec<String>> {
        match self.texts(names)? {
            Some(list) if !list.is_empty() => Ok(list),
            _ => Err(Problem::invalid(format!(
                "`{}` must name at least one user",
                names.first().unwrap_or(&"?")
            ))),
        }
    }

    /// The flag under one of `names` (a JSON boolean, or `true`/`false` in a query).
    pub fn flag(&self, names: &[&'static str]) -> Answer<Option<bool>> {
        match self.get(names) {
            None => Ok(None),
            Some((_, Value::Bool(flag))) => Ok(Some(*flag)),
            Some((name, Value::String(text))) => match text.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(Some(true)),
                "false" | "0" | "no" => Ok(Some(false)),
                _ => Err(Problem::invalid(format!("`{name}` must be true or false"))),
            },
            Some((name, _)) => Err(Problem::invalid(format!("`{name}` must be true or false"))),
        }
    }

    /// The JSON object under one of `names`, if given.
    pub fn object(&self, names: &[&'static str]) -> Answer<Option<Map<String, Value>>> {
        match self.get(names) {
            None => Ok(None),
            Some((_, Value::Object(map))) => Ok(Some(map.clone())),
            Some((name, _)) => Err(Problem::invalid(format!("`{name}` must be an object"))),
        }
    }
}

/// The one path parameter of a route (a folder's name or UUID, an invitation's id),
/// decoded; a segment that is not UTF-8 is a 400 problem, not axum's plain-text rejection.
#[derive(Debug, Clone)]
pub(crate) struct Piece(pub String);

impl FromRequestParts<Arc<App>> for Piece {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Answer<Piece> {
        Path::<String>::from_request_parts(parts, app)
            .await
            .map(|Path(piece)| Piece(piece))
            .map_err(|rejection| Problem::invalid(rejection.body_text()))
    }
}

impl FromRequest<Arc<App>> for Fields {
    type Rejection = Problem;

    async fn from_request(request: Request, app: &Arc<App>) -> Answer<Fields> {
        let query = request.uri().query().map(str::to_owned);
        let body = Bytes::from_request(request, app)
            .await
            .map_err(|rejection| {
                let status = rejection.status();
                Problem::new(
                    status,
                    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                        "request-too-large"
                    } else {
                        "generic-bad-request"
                    },
                    "Bad request.",
                    rejection.body_text(),
                )
            })?;
        Fields::parse(&body, query.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rule B1: aliases, empty bodies, JSON on GET and query parameters are all read.
    #[test]
    fn fields_take_every_alias_and_form() {
        let fields = Fields::parse(br#"{"perm": "ro", "user_ids": ["b@x.org"]}"#, None).unwrap();
        assert_eq!(
            fields.text(&["permission", "perm"]).unwrap().as_deref(),
            Some("ro")
        );
        assert_eq!(
            fields
                .required_texts(&["emails", "user_ids", "userIDs"])
                .unwrap(),
            vec!["b@x.org".to_owned()]
        );
        let empty = Fields::parse(b"", None).unwrap();
        assert_eq!(
            empty.text(&["shared_user_uuid", "sharedUserUuid"]).unwrap(),
            None
        );
        let null = Fields::parse(b"null", Some("vfolder_id=abc&all=false")).unwrap();
        assert_eq!(null.text(&["vfolder_id"]).unwrap().as_deref(), Some("abc"));
        assert_eq!(null.flag(&["all"]).unwrap(), Some(false));
        let body_wins = Fields::parse(br#"{"name": "a"}"#, Some("name=b")).unwrap();
        assert_eq!(body_wins.required(&["name"]).unwrap(), "a");
        let err = Fields::parse(b"[1]", None).unwrap_err();
        assert_eq!(err.slug, "generic-bad-request");
        let err = Fields::parse(b"{", None).unwrap_err();
        assert_eq!(err.slug, "generic-bad-request");
        let wrong = Fields::parse(br#"{"name": 3, "emails": [1]}"#, None).unwrap();
        assert_eq!(
            wrong.required(&["name"]).unwrap_err().slug,
            "invalid-api-params"
        );
        assert!(wrong.texts(&["emails"]).unwrap_err().msg.contains("emails"));
        assert!(
            empty
                .required(&["name"])
                .unwrap_err()
                .msg
                .contains("`name`")
        );
    }
}
