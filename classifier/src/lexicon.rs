//! Built-in keywords of common personal-paperwork topics, in English, German and
//! French: the "keyword" half of name matching.
//!
//! Topic names rarely occur in the documents filed under them ("Health" is seldom
//! written on a prescription), so a candidate whose name is one of the well-known
//! topics below also matches that topic's typical words. A name maps to a concept
//! when one of its terms is one of the concept's aliases ("Car & Motorbike" →
//! vehicles, "Steuern" → taxes); a name may map to several concepts, and names that
//! map to none (a person's "Grandma's letters") have no keywords, only their name.
//!
//! The lists hold words that are typical *and* fairly specific to the topic; words
//! that every kind of paperwork uses (payment, account number, contract, statement,
//! reference, appointment) are left out on purpose. They are not learnt: they are a
//! fixed prior that helps a new person and topics a person has filed little under.
//! With a model, keywords multiply the model's odds by a bounded factor
//! ([`crate::Settings::name_boost`]), so the person's own filing habits can overrule
//! them.
//!
//! The lists were written from general knowledge of such paperwork, by the same
//! author and after the labelled corpus in `corpus/`; figures measured on that corpus
//! with keywords on are therefore somewhat optimistic, and the corpus test reports
//! the model's accuracy without keywords beside them.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use crate::terms::{name_terms, Terms};

struct Concept {
    /// Words that, in a topic's name, mean this concept.
    aliases: &'static [&'static str],
    /// Words typical of documents of this concept.
    keywords: &'static [&'static str],
}

// One concept per block, words wrapped: easier to review than one word per line.
#[rustfmt::skip]
const CONCEPTS: &[Concept] = &[
    Concept {
        // Taxes
        aliases: &[
            "tax", "taxes", "taxation", "fiscal", "hmrc", "irs", "steuer", "steuern",
            "finanzamt", "impôt", "impôts", "impots", "fisc",
        ],
        keywords: &[
            "tax", "taxes", "taxable", "taxpayer", "hmrc", "irs", "revenue", "assessment",
            "deduction", "deductible", "allowance", "withholding", "withheld", "vat", "p60",
            "p11d", "utr", "accountant", "bookkeeping", "dividend", "gains", "exemption",
            "relief", "filing", "steuer", "steuern", "finanzamt", "steuerbescheid",
            "einkommensteuer", "lohnsteuer", "steuererklärung", "steuernummer",
            "steuerberater", "kirchensteuer", "solidaritätszuschlag", "freibetrag",
            "werbungskosten", "kapitalertragsteuer", "impôt", "impôts", "impots", "fiscal",
            "fiscale", "imposition", "déclaration", "revenus",
        ],
    },
    Concept {
        // Health
        aliases: &[
            "health", "healthcare", "medical", "medicine", "doctor", "doctors",
            "gesundheit", "arzt", "ärzte", "medizin", "santé", "médical", "médecin",
        ],
        keywords: &[
            "doctor", "gp", "physician", "nurse", "clinic", "hospital", "patient",
            "prescription", "pharmacy", "medication", "medicine", "tablets", "diagnosis",
            "symptoms", "treatment", "therapy", "physiotherapy", "dental", "dentist",
            "optician", "vaccine", "vaccination", "immunisation", "surgery", "referral",
            "nhs", "ward", "discharge", "outpatient", "allergy", "cholesterol", "diabetes",
            "asthma", "infection", "antibiotic", "counselling", "therapist", "midwife",
            "pregnancy", "audiology", "dermatology", "cardiology", "scan", "mri", "arzt",
            "ärztin", "praxis", "krankenhaus", "klinik", "rezept", "apotheke", "medikament",
            "behandlung", "diagnose", "impfung", "zahnarzt", "befund", "krankenkasse",
            "therapie", "untersuchung", "médecin", "docteur", "ordonnance", "pharmacie",
            "hôpital", "clinique", "traitement", "vaccin", "dentiste",
        ],
    },
    Concept {
        // Insurance
        aliases: &[
            "insurance", "insurances", "insurer", "assurance", "policies", "versicherung",
            "versicherungen", "assurances",
        ],
        keywords: &[
            "insurance", "insurer", "insured", "policy", "policyholder", "premium",
            "excess", "claim", "cover", "coverage", "underwriter", "underwriting",
            "liability", "indemnity", "beneficiary", "beneficiaries", "assurance",
            "adjuster", "broker", "accidental", "theft", "versicherung", "versichert",
            "versicherungsnehmer", "versicherungsschein", "schaden", "schadensmeldung",
            "selbstbeteiligung", "haftpflicht", "hausrat", "versicherungssumme", "assuré",
            "assureur", "sinistre", "franchise", "cotisation", "garantie",
        ],
    },
    Concept {
        // Housing
        aliases: &[
            "housing", "house", "home", "flat", "apartment", "rent", "rental", "property",
            "tenancy", "mortgage", "wohnung", "miete", "wohnen", "haus", "logement",
            "maison", "immobilier", "loyer",
        ],
        keywords: &[
            "rent", "tenant", "tenancy", "landlord", "lease", "leasehold", "leaseholder",
            "freehold", "letting", "mortgage", "property", "flat", "apartment", "house",
            "council", "utilities", "electricity", "gas", "water", "energy", "heating",
            "boiler", "plumber", "plumbing", "meter", "kwh", "conveyancing", "survey",
            "removals", "neighbour", "damp", "mould", "kitchen", "bathroom", "roof",
            "bedroom", "garden", "epc", "miete", "mieter", "vermieter", "mietvertrag",
            "wohnung", "nebenkosten", "kaution", "hausverwaltung", "eigentümer", "heizung",
            "strom", "wasser", "hausmeister", "loyer", "locataire", "propriétaire", "bail",
            "logement", "appartement", "électricité", "chauffage",
        ],
    },
    Concept {
        // Employment
        aliases: &[
            "employment", "employer", "job", "jobs", "work", "career", "salary", "payroll",
            "payslips", "payslip", "hr", "arbeit", "beruf", "gehalt", "emploi", "travail",
        ],
        keywords: &[
            "employer", "employee", "employment", "salary", "payslip", "payroll", "wage",
            "wages", "job", "hr", "staff", "colleague", "colleagues", "leave", "overtime",
            "shift", "probation", "resignation", "redundancy", "dismissal", "interview",
            "recruitment", "appraisal", "promotion", "bonus", "p45", "timesheet",
            "maternity", "paternity", "union", "workplace", "arbeitgeber", "arbeitnehmer",
            "arbeitsvertrag", "gehalt", "lohn", "gehaltsabrechnung", "lohnabrechnung",
            "bewerbung", "probezeit", "personalabteilung", "arbeitszeit", "zeugnis",
            "employeur", "salarié", "salaire", "travail", "paie", "embauche", "congés",
            "licenciement", "démission",
        ],
    },
    Concept {
        // Travel
        aliases: &[
            "travel", "travels", "trip", "trips", "holiday", "holidays", "vacation",
            "vacations", "reise", "reisen", "urlaub", "voyage", "voyages", "vacances",
        ],
        keywords: &[
            "travel", "trip", "holiday", "flight", "flights", "airline", "airport",
            "boarding", "passenger", "passport", "visa", "hotel", "hostel", "reservation",
            "itinerary", "luggage", "baggage", "rail", "ferry", "cruise", "destination",
            "departure", "arrival", "terminal", "embassy", "esta", "schengen", "tour",
            "resort", "excursion", "traveller", "abroad", "flug", "flughafen", "reise",
            "reisende", "buchung", "fahrkarte", "bahn", "urlaub", "reisepass", "gepäck",
            "abflug", "ankunft", "vol", "aéroport", "voyage", "hôtel", "réservation",
            "billet", "bagage", "passeport", "séjour", "départ",
        ],
    },
    Concept {
        // Vehicles
        aliases: &[
            "vehicle", "vehicles", "car", "cars", "auto", "autos", "automobile", "motor",
            "motoring", "motorbike", "motorcycle", "fahrzeug", "fahrzeuge", "kfz",
            "voiture", "véhicule",
        ],
        keywords: &[
            "car", "vehicle", "motor", "driver", "driving", "licence", "license",
            "registration", "mot", "dvla", "garage", "mechanic", "tyre", "tyres", "tire",
            "brake", "brakes", "engine", "clutch", "mileage", "odometer", "fuel", "petrol",
            "diesel", "parking", "pcn", "speeding", "speed", "toll", "congestion",
            "breakdown", "tow", "windscreen", "bodywork", "dealer", "dealership", "recall",
            "vin", "keeper", "plate", "motorway", "fahrzeug", "kfz", "führerschein",
            "zulassung", "kennzeichen", "werkstatt", "tüv", "hauptuntersuchung", "reifen",
            "kraftstoff", "bußgeld", "voiture", "véhicule", "permis", "pneu", "carburant",
            "stationnement",
        ],
    },
    Concept {
        // Banking
        aliases: &[
            "bank", "banking", "banks", "finance", "finances", "financial", "money",
            "savings", "konto", "konten", "banque", "compte", "comptes",
        ],
        keywords: &[
            "bank", "banking", "overdraft", "iban", "bic", "swift", "loan", "lender",
            "borrower", "interest", "savings", "saver", "isa", "transaction", "atm",
            "withdrawal", "pin", "cheque", "fraud", "payee", "apr", "aer", "bond",
            "investment", "currency", "konto", "kontoauszug", "girokonto", "überweisung",
            "lastschrift", "dauerauftrag", "sparkasse", "kredit", "darlehen", "zinsen",
            "guthaben", "kontostand", "banque", "compte", "relevé", "virement", "crédit",
            "prêt", "épargne", "bancaire",
        ],
    },
    Concept {
        // Pension
        aliases: &[
            "pension", "pensions", "retirement", "rente", "altersvorsorge", "retraite",
        ],
        keywords: &[
            "pension", "retirement", "annuity", "drawdown", "contributions", "rente",
            "altersvorsorge", "rentenversicherung", "retraite",
        ],
    },
    Concept {
        // Education
        aliases: &[
            "education", "school", "schools", "university", "college", "studies", "study",
            "schule", "studium", "universität", "école", "études",
        ],
        keywords: &[
            "school", "pupil", "student", "university", "college", "tuition", "course",
            "exam", "exams", "grade", "grades", "teacher", "enrolment", "semester",
            "degree", "schule", "schüler", "studium", "universität", "zeugnis", "école",
            "élève", "étudiant", "université",
        ],
    },
    Concept {
        // Pets
        aliases: &[
            "pet", "pets", "dog", "dogs", "cat", "cats", "haustier", "tiere", "animaux",
        ],
        keywords: &[
            "pet", "vet", "veterinary", "dog", "cat", "puppy", "kitten", "microchip",
            "kennel", "cattery", "grooming", "flea", "worming", "tierarzt", "hund", "katze",
            "vétérinaire", "chien", "chat",
        ],
    },
    Concept {
        // Legal
        aliases: &[
            "legal", "law", "lawyer", "court", "recht", "anwalt", "juridique",
        ],
        keywords: &[
            "solicitor", "lawyer", "attorney", "court", "tribunal", "claimant", "defendant",
            "judgment", "hearing", "probate", "executor", "anwalt", "rechtsanwalt",
            "gericht", "urteil", "avocat", "jugement",
        ],
    },
];

struct Built {
    /// Alias term → concepts it names.
    aliases: HashMap<String, Vec<usize>>,
    /// Per concept: its keyword terms.
    keywords: Vec<BTreeSet<String>>,
}

static BUILT: LazyLock<Built> = LazyLock::new(|| {
    let mut aliases: HashMap<String, Vec<usize>> = HashMap::new();
    let mut keywords = Vec::with_capacity(CONCEPTS.len());
    for (index, concept) in CONCEPTS.iter().enumerate() {
        for alias in concept.aliases {
            for term in name_terms(alias) {
                let concepts = aliases.entry(term).or_default();
                if !concepts.contains(&index) {
                    concepts.push(index);
                }
            }
        }
        keywords.push(
            concept
                .keywords
                .iter()
                .flat_map(|word| name_terms(word))
                .collect(),
        );
    }
    Built { aliases, keywords }
});

/// The concepts a topic name refers to, by its terms (empty for unknown names).
fn concepts_of(name_terms: &[String]) -> Vec<usize> {
    let built = &*BUILT;
    let mut concepts: Vec<usize> = name_terms
        .iter()
        .filter_map(|term| built.aliases.get(term))
        .flatten()
        .copied()
        .collect();
    concepts.sort_unstable();
    concepts.dedup();
    concepts
}

/// `Σ (1 + ln c)` over the keywords of a topic named with `name_terms` that occur `c`
/// times in `document`: the keywords of every concept the name refers to, each once,
/// without the name's own terms (those count as the name).
pub(crate) fn keyword_hits(name_terms: &[String], document: &Terms) -> f64 {
    let built = &*BUILT;
    let concepts = concepts_of(name_terms);
    let mut hits = 0.0;
    for (i, concept) in concepts.iter().enumerate() {
        let Some(keywords) = built.keywords.get(*concept) else {
            continue;
        };
        for keyword in keywords {
            let count = document.get(keyword);
            if count == 0
                || name_terms.contains(keyword)
                || concepts[..i].iter().any(|earlier| {
                    built
                        .keywords
                        .get(*earlier)
                        .is_some_and(|k| k.contains(keyword))
                })
            {
                continue;
            }
            hits += 1.0 + f64::from(count).ln();
        }
    }
    hits
}

/// The keyword terms for a topic whose name has the terms `name_terms`: the union
/// over every concept the name refers to, without the name's own terms.
#[cfg(test)]
pub(crate) fn keywords_for(name_terms: &[String]) -> BTreeSet<&'static str> {
    let built = &*BUILT;
    concepts_of(name_terms)
        .into_iter()
        .filter_map(|concept| built.keywords.get(concept))
        .flatten()
        .map(String::as_str)
        .filter(|keyword| !name_terms.iter().any(|t| t == keyword))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn for_name(name: &str) -> BTreeSet<&'static str> {
        keywords_for(&name_terms(name))
    }

    #[test]
    fn names_find_their_concepts_in_any_language() {
        assert!(for_name("Taxes").contains("hmrc"));
        assert!(for_name("Steuern").contains("finanzamt"));
        assert!(for_name("Santé").contains(name_terms("ordonnance")[0].as_str()));
        assert!(for_name("My car").contains("tyre"));
    }

    #[test]
    fn a_name_with_two_concepts_gets_both() {
        let both = for_name("Car insurance");
        assert!(both.contains("tyre") && both.contains("premium"));
    }

    #[test]
    fn hits_count_each_keyword_once_and_not_the_name() {
        let doc = crate::terms::terms("tax tax HMRC assessment of your payslip, salary");
        let taxes = keyword_hits(&name_terms("Taxes"), &doc);
        // hmrc and assessment once each; "tax" is the name itself.
        assert!((taxes - 2.0).abs() < 1e-9, "{taxes}");
        let both = keyword_hits(&name_terms("Taxes and salary"), &doc);
        // plus payslip; salary is part of the name.
        assert!((both - 3.0).abs() < 1e-9, "{both}");
        assert_eq!(keyword_hits(&name_terms("Grandma"), &doc), 0.0);
    }

    #[test]
    fn unknown_names_have_no_keywords() {
        assert!(for_name("Grandma's letters").is_empty());
        assert!(for_name("").is_empty());
    }

    #[test]
    fn every_concept_has_aliases_and_keywords_that_survive_tokenising() {
        for concept in CONCEPTS {
            assert!(concept.aliases.iter().any(|a| !name_terms(a).is_empty()));
            for word in concept.keywords {
                assert!(!name_terms(word).is_empty(), "{word} is dropped by terms()");
            }
        }
    }
}
