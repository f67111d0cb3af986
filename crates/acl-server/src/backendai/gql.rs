//! The one GraphQL mutation of the manager's admin API that folder and policy
//! administration through the client needs: `delete_keypair_resource_policy(name)`, what
//! `KeypairResourcePolicy.delete` sends to `POST /admin/gql`. A policy in use is not
//! deleted and the answer names its users (rule A6, Backend.AI's #14531). Any other
//! operation is a GraphQL error naming what is served; users, keypairs and projects stay
//! in the v1 API.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use graphql_parser::query::{Definition, OperationDefinition, Selection, Value as GqlValue};
use serde_json::{Map, Value, json};

use acl_platform::PolicyName;

use super::auth::Signer;
use super::body::Fields;
use super::problem::{Answer, Problem};
use crate::app::{App, require_live};

/// The mutation served.
const DELETE_POLICY: &str = "delete_keypair_resource_policy";

/// A GraphQL error answer.
fn errors(message: impl Into<String>) -> Json<Value> {
    Json(json!({ "data": null, "errors": [{ "message": message.into() }] }))
}

/// The text of argument `name` of a field: a string literal or a variable.
fn argument(
    arguments: &[(String, GqlValue<'_, String>)],
    name: &str,
    variables: &Map<String, Value>,
) -> Option<String> {
    arguments
        .iter()
        .find(|(key, _)| key == name)
        .and_then(|(_, value)| match value {
            GqlValue::String(text) => Some(text.clone()),
            GqlValue::Variable(var) => variables
                .get(var)
                .and_then(Value::as_str)
                .map(str::to_owned),
            _ => None,
        })
}

/// `POST /admin/gql` (and `/admin/graphql`).
pub(crate) async fn admin(
    State(app): State<Arc<App>>,
    Signer(me): Signer,
    fields: Fields,
) -> Answer<Json<Value>> {
    let query = fields.required(&["query"])?;
    let variables = match fields.object(&["variables"])? {
        Some(map) => map,
        None => Map::new(),
    };
    let document = match graphql_parser::parse_query::<String>(&query) {
        Ok(document) => document,
        Err(err) => return Ok(errors(format!("the query does not parse: {err}"))),
    };
    let mut wanted: Vec<(String, String)> = Vec::new();
    for definition in &document.definitions {
        let Definition::Operation(OperationDefinition::Mutation(mutation)) = definition else {
            return Ok(errors(format!(
                "only the mutation `{DELETE_POLICY}` is served here"
            )));
        };
        for selection in &mutation.selection_set.items {
            let Selection::Field(field) = selection else {
                return Ok(errors("fragments are not served"));
            };
            if field.name != DELETE_POLICY {
                return Ok(errors(format!(
                    "`{}` is not served: only `{DELETE_POLICY}`",
                    acl_core::clip(&field.name)
                )));
            }
            let Some(name) = argument(&field.arguments, "name", &variables) else {
                return Ok(errors(format!("`{DELETE_POLICY}` needs a string `name`")));
            };
            let key = field.alias.clone().unwrap_or_else(|| field.name.clone());
            wanted.push((key, name));
        }
    }
    if wanted.is_empty() {
        return Ok(errors("the document has no operation"));
    }
    let data = app
        .blocking(move |app| {
            require_live(&app.engine.reader()?, &me)?;
            let mut data = Map::new();
            for (key, name) in wanted {
                let caller = acl_core::Caller::new(me.clone(), crate::app::now());
                let outcome = PolicyName::new(&name)
                    .and_then(|policy| app.engine.delete_policy(&caller, &policy));
                let answer = match outcome {
                    Ok(done) => {
                        app.saw(done.revision);
                        json!({ "ok": true, "msg": "success" })
                    }
                    Err(err) => json!({ "ok": false, "msg": err.to_string() }),
                };
                data.insert(key, answer);
            }
            app.catch_up();
            Ok(data)
        })
        .await
        .map_err(Problem::from)?;
    Ok(Json(json!({ "data": data })))
}
