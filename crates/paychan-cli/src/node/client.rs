//! The CLI's side of the node's HTTP API: where the node is (`--node`, else the `node.json` the
//! running node wrote beside its store), its token, and typed calls that turn every error
//! into one line.

use std::{path::PathBuf, time::Duration};

use paychan_node::api::wire::{ErrorBody, EventBody};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use solana_keypair::Keypair;

use crate::store::StoreArg;

/// Which node to ask.
#[derive(clap::Args, Debug, Clone)]
pub struct NodeArg {
    /// The node's API URL (default: the node running for this key, from its node.json).
    #[arg(long)]
    api: Option<String>,
    /// The node's API token file (default: the running node's).
    #[arg(long)]
    api_token: Option<PathBuf>,
}

impl NodeArg {
    /// Whether the command line names a node (`--api`): ask it, not the local store.
    pub fn given(&self) -> bool {
        self.api.is_some()
    }
}

/// What a running node tells the CLI about itself (written beside its store).
#[derive(Serialize, Deserialize, Debug)]
pub struct Advert {
    pub api: String,
    pub token_file: PathBuf,
}

/// The file a node started with `store` writes its [`Advert`] to.
pub fn advert_path(store: &StoreArg, me: &Keypair) -> Result<PathBuf, String> {
    let path = store.path(me)?;
    Ok(path.with_extension("node.json"))
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing answers: no node runs (the caller may do without one).
    #[error("no node is running for this key ({0}): start one with `paychan node`")]
    NoNode(String),
    #[error("{0}")]
    Failed(String),
}

impl From<ClientError> for String {
    fn from(error: ClientError) -> Self {
        error.to_string()
    }
}

pub struct NodeClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl NodeClient {
    /// The node `arg` names, else the one running for `me` with `store`.
    pub fn find(arg: &NodeArg, store: &StoreArg, me: &Keypair) -> Result<Self, ClientError> {
        let advert_at = advert_path(store, me).map_err(ClientError::Failed)?;
        let advert: Option<Advert> = std::fs::read_to_string(&advert_at)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok());
        let base = match (&arg.api, &advert) {
            (Some(url), _) => url.clone(),
            (None, Some(advert)) => advert.api.clone(),
            (None, None) => return Err(ClientError::NoNode(format!("no {}", advert_at.display()))),
        };
        let token_file = match (&arg.api_token, &advert) {
            (Some(path), _) => path.clone(),
            (None, Some(advert)) => advert.token_file.clone(),
            (None, None) => {
                return Err(ClientError::Failed(
                    "--api needs --api-token FILE (the node's token)".into(),
                ))
            }
        };
        let token = std::fs::read_to_string(&token_file)
            .map_err(|e| {
                ClientError::Failed(format!(
                    "cannot read the API token {}: {e}",
                    token_file.display()
                ))
            })?
            .trim()
            .to_string();
        let base = base.trim_end_matches('/').to_string();
        let base = if base.starts_with("http://") || base.starts_with("https://") {
            base
        } else {
            format!("http://{base}")
        };
        Ok(Self {
            base,
            token,
            http: reqwest::Client::new(),
        })
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let response = request.bearer_auth(&self.token).send().await.map_err(|e| {
            if e.is_connect() {
                ClientError::NoNode(format!("nothing answers at {}", self.base))
            } else {
                ClientError::Failed(format!("the node at {} failed to answer: {e}", self.base))
            }
        })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| ClientError::Failed(format!("the node hung up: {e}")))?;
        if !status.is_success() {
            let message = serde_json::from_slice::<ErrorBody>(&body)
                .map(|e| e.error)
                .unwrap_or_else(|_| String::from_utf8_lossy(&body).into_owned());
            return Err(ClientError::Failed(message));
        }
        serde_json::from_slice(&body)
            .map_err(|e| ClientError::Failed(format!("the node sent something unreadable ({e})")))
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ClientError> {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    /// Calls `on_event` for each event on the node's stream until it returns false or the
    /// stream ends.
    pub async fn follow(
        &self,
        mut on_event: impl FnMut(EventBody) -> bool,
    ) -> Result<(), ClientError> {
        let mut response = self
            .http
            .get(format!("{}/v1/events", self.base))
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(60 * 60 * 24))
            .send()
            .await
            .map_err(|e| ClientError::Failed(format!("cannot follow the node's events: {e}")))?;
        let mut pending = String::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| ClientError::Failed(format!("the event stream broke: {e}")))?
        {
            pending.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = pending.find('\n') {
                let line: String = pending.drain(..=end).collect();
                if let Some(data) = line.trim_end().strip_prefix("data: ") {
                    if let Ok(event) = serde_json::from_str(data) {
                        if !on_event(event) {
                            return Ok(());
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
