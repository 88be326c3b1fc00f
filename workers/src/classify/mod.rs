//! The classification worker (AI-1, AI-3, AI-4): a competing consumer of document events
//! (start more workers to go faster). For a confirm, or the owner's request to run again,
//! it reads the bytes, extracts their text in a limited child process, keeps the text
//! sealed in the side store and records it (`TextExtracted`), asks the owner's classifier
//! for topics and records them (`DocumentClassified`). A file that cannot be read fails
//! its run at once (`ClassificationFailed`), and so does a classifier that refuses the
//! request (its key or model is wrong: the owner runs it again once an admin fixed it);
//! a failure of the server or an outage of the classifier is retried with growing pauses
//! (never sooner than a rate-limited endpoint's `Retry-After`) and recorded as the run's
//! failure on the last delivery; an answer that does not fit the schema is asked again
//! once.
//! Every command it runs carries an id derived from the event it handles, and the
//! document ignores results of a run that already has them, so redelivery changes nothing.

pub mod choice;
pub mod llm;
pub mod offline;
pub mod ollama;
pub mod openai;
pub mod provider;

use crate::documents::caused_by;
use crate::jobs::{Delivery, Job, Retry};
use choice::Providers;
use commands::classification::{Classifications, Run};
use commands::documents::DocumentsError;
use commands::topics::Topics;
use commands::CommandMeta;
use domain::document::classification::{
    first_request, ClassificationStage, FailedStep, Failure, Verdict,
};
use domain::document::{DocumentEvent, DocumentKind};
use domain::topic::Namespace;
use eventlog::StoredEvent;
use futures::future::BoxFuture;
use provider::{Candidate, Question};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// The worker's name in command ids and actors.
const NAME: &str = "classifier";
/// Deliveries that may end in an answer that does not fit the schema before the run
/// fails (a model may answer better the second time; not eight times).
const BAD_ANSWER_TRIES: i64 = 2;

pub struct ClassifyDocuments {
    classifications: Classifications,
    topics: Topics,
    pool: PgPool,
    sandbox: extract::Sandbox,
    providers: Arc<Providers>,
}

impl ClassifyDocuments {
    pub fn new(
        classifications: Classifications,
        topics: Topics,
        pool: PgPool,
        sandbox: extract::Sandbox,
        providers: Arc<Providers>,
    ) -> Self {
        Self {
            classifications,
            topics,
            pool,
            sandbox,
            providers,
        }
    }
}

impl Job for ClassifyDocuments {
    fn name(&self) -> &'static str {
        NAME
    }

    fn aggregate_type(&self) -> &'static str {
        "document"
    }

    fn handle<'a>(
        &'a self,
        event: &'a StoredEvent,
        delivery: Delivery,
    ) -> BoxFuture<'a, Result<(), Retry>> {
        Box::pin(async move {
            let decoded: DocumentEvent = match event.decode() {
                Ok(decoded) => decoded,
                Err(error) => {
                    tracing::error!(event_id = %event.event_id, %error, "a document event this build cannot read");
                    return Ok(());
                }
            };
            let (document_id, request) = match decoded {
                DocumentEvent::UploadConfirmed(e) => (e.document_id, first_request(e.document_id)),
                DocumentEvent::ClassificationRequested(e) => (e.document_id, e.request),
                _ => return Ok(()),
            };
            let meta = caused_by(event, NAME);
            self.run(document_id, request, delivery, &meta).await
        })
    }
}

/// Why a step did not finish.
enum Stop {
    /// Record the failure now: the document's fault, or the classifier refused.
    Now(Failure),
    /// The system's: retry (not before `after`), and record it on the last delivery.
    Later {
        failure: Failure,
        after: Option<Duration>,
    },
}

fn retry(error: impl std::fmt::Display) -> Retry {
    Retry::from(error.to_string())
}

impl ClassifyDocuments {
    async fn run(
        &self,
        document_id: Uuid,
        request: Uuid,
        delivery: Delivery,
        meta: &CommandMeta,
    ) -> Result<(), Retry> {
        let Some(mut run) = self
            .classifications
            .run_of(document_id)
            .await
            .map_err(retry)?
        else {
            return Ok(());
        };
        if !run.is_running(request) {
            return Ok(());
        }
        let outcome = match self.text_of(&mut run, meta).await {
            Ok(text) => self.classify(&run, &text, delivery, meta).await,
            Err(stop) => Err(stop),
        };
        let failure = match outcome {
            Ok(()) => return Ok(()),
            Err(Stop::Now(failure)) => failure,
            Err(Stop::Later { failure, .. }) if delivery.last => failure,
            Err(Stop::Later { failure, after }) => {
                return Err(Retry {
                    reason: format!(
                        "{} ({}), delivery {}",
                        failure.reason, failure.code, delivery.number
                    ),
                    not_before: after,
                })
            }
        };
        tracing::info!(%document_id, code = %failure.code, "classification failed");
        self.classifications
            .fail(&run, failure, meta)
            .await
            .map_err(retry)
    }

    /// The run's text: extracted now, or recorded by an earlier delivery.
    async fn text_of(&self, run: &mut Run, meta: &CommandMeta) -> Result<String, Stop> {
        if run.stage == ClassificationStage::Classifying {
            return match self.classifications.text(run).await {
                Ok(text) => Ok(text.map(|text| text.to_string()).unwrap_or_default()),
                Err(error) => Err(system(FailedStep::Extraction, error)),
            };
        }
        let limit = self.sandbox.limits.max_input_bytes;
        let bytes = match self.classifications.bytes(run, limit).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                return Err(Stop::Now(Failure {
                    step: FailedStep::Extraction,
                    code: "content_missing".into(),
                    reason: "The file's content is gone.".into(),
                }))
            }
            Err(DocumentsError::Objects(storage::StoreError::TooLarge(max))) => {
                return Err(Stop::Now(Failure {
                    step: FailedStep::Extraction,
                    code: "too_large".into(),
                    reason: format!("The file is larger than the {max} bytes text is read from."),
                }))
            }
            Err(error) => return Err(system(FailedStep::Extraction, error)),
        };
        let extracted = match self.sandbox.run(kind_of(run.kind), &bytes).await {
            Ok(extracted) => extracted,
            Err(error) if error.is_document_fault() => {
                return Err(Stop::Now(Failure {
                    step: FailedStep::Extraction,
                    code: error.code().into(),
                    reason: error.to_string(),
                }))
            }
            Err(error) => return Err(system(FailedStep::Extraction, error)),
        };
        let recorded = self
            .classifications
            .record_text(
                run,
                &extracted.text,
                extracted.language.map(|language| language.to_string()),
                extracted.truncated,
                meta,
            )
            .await
            .map_err(|error| system(FailedStep::Extraction, error))?;
        run.text = Some(recorded);
        run.stage = ClassificationStage::Classifying;
        Ok(extracted.text)
    }

    async fn classify(
        &self,
        run: &Run,
        text: &str,
        delivery: Delivery,
        meta: &CommandMeta,
    ) -> Result<(), Stop> {
        let candidates: Vec<Candidate> =
            projections::documents::queries::topic_names(&self.pool, run.owner)
                .await
                .map_err(|error| system(FailedStep::Classification, error))?
                .into_iter()
                .map(|(id, name)| Candidate { id, name })
                .collect();
        let provider_failed =
            |error: provider::ProviderError| self.provider_failed(error, delivery);
        let assigned = projections::users::queries::find_by_id(&self.pool, run.owner)
            .await
            .map_err(|error| system(FailedStep::Classification, error))?;
        let choice = self
            .providers
            .for_owner(
                assigned.as_ref().and_then(|row| row.ai_provider.as_deref()),
                assigned.as_ref().and_then(|row| row.ai_model.as_deref()),
            )
            .await
            .map_err(provider_failed)?;
        let question = Question {
            owner: run.owner,
            document_id: run.document_id,
            text,
            candidates: &candidates,
            model: choice.model.as_deref(),
        };
        let answer = choice
            .provider
            .classify(question)
            .await
            .map_err(provider_failed)?;
        let mut suggested = answer.topics;
        // A new topic it suggests goes in the owner's namespace, under an id derived
        // from the run and the name, so a redelivery finds it instead of making another.
        for name in &answer.new_topics {
            let topic_id = Uuid::new_v5(&run.request, name.to_lowercase().as_bytes());
            let topic = self
                .topics
                .ensure(Namespace::Person(run.owner), name, topic_id, meta)
                .await
                .map_err(|error| system(FailedStep::Classification, error))?;
            suggested.insert(topic);
        }
        let verdict = Verdict {
            suggested,
            provider: choice.provider.name().into(),
            model: answer.model,
        };
        self.classifications
            .classify(run, verdict, meta)
            .await
            .map_err(|error| system(FailedStep::Classification, error))
    }
}

impl ClassifyDocuments {
    /// What a classifier's failure means for the run: a refusal (wrong key, model or
    /// endpoint) fails it now; a bad answer is asked again once; an outage is retried, not
    /// before a rate-limited endpoint said.
    fn provider_failed(&self, error: provider::ProviderError, delivery: Delivery) -> Stop {
        use provider::ProviderError;
        let failure = Failure {
            step: FailedStep::Classification,
            code: error.code().into(),
            reason: error.to_string(),
        };
        match error {
            ProviderError::Refused(_) => Stop::Now(failure),
            ProviderError::BadAnswer(_) if delivery.number >= BAD_ANSWER_TRIES => {
                Stop::Now(failure)
            }
            ProviderError::Limited(_, after) => Stop::Later {
                failure,
                after: after.map(|after| after.delay(self.providers.clock.now())),
            },
            ProviderError::BadAnswer(_)
            | ProviderError::Unavailable(_)
            | ProviderError::Internal(_) => Stop::Later {
                failure,
                after: None,
            },
        }
    }
}

/// A failure of the system, in words for the owner; the detail goes to the log.
fn system(step: FailedStep, error: impl std::fmt::Display) -> Stop {
    tracing::warn!(?step, %error, "a classification step failed");
    Stop::Later {
        after: None,
        failure: Failure {
            step,
            code: "server_error".into(),
            reason: "The server could not finish this step; run it again later.".into(),
        },
    }
}

fn kind_of(kind: DocumentKind) -> extract::Kind {
    match kind {
        DocumentKind::Pdf => extract::Kind::Pdf,
        DocumentKind::Docx => extract::Kind::Docx,
        DocumentKind::Text => extract::Kind::Text,
        DocumentKind::Markdown => extract::Kind::Markdown,
    }
}
