//! The widget's words in English, Spanish and Norwegian Bokmål, and which language and
//! direction to use. Pure, so language choice and wording are tested natively.

/// A built-in language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Es,
    Nb,
}

/// Every string the widget shows that is not authored content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    OpenHelp,
    HelpStories,
    Close,
    /// The label of a video's captions track.
    Captions,
    Pause,
    Play,
    Previous,
    Next,
    DidThisHelp,
    Yes,
    No,
    SorryContact,
    LiveNow,
    Join,
    StartsIn,
    AddToCalendar,
    Send,
    Thanks,
    Results,
    YourAnswer,
    ContactUs,
    Unmute,
    Mute,
    MediaFailed,
    SessionOver,
    LiveSessions,
    Queued,
    Seen,
    New,
    LiveHelpOpenUntil,
    NextLiveHelp,
    AskQuestion,
    Topic,
    YourQuestion,
    AddPhoto,
    NotHere,
    SensitiveWarning,
    Waiting,
    TeamReplied,
    SearchHelp,
    NoResults,
    AllArticles,
    DeleteConversation,
    DeleteConfirm,
    DeleteForGood,
    Cancel,
    /// A part of the widget could not be downloaded (after retries).
    PartFailed,
    TryAgain,
    /// The optional email field of the question form.
    YourEmail,
    /// What the visitor agrees to by leaving an email.
    EmailConsent,
    /// The thread's box for another message.
    AddMessage,
    /// The ask form when the team is away for the topic.
    RepliesWhenBack,
    /// The button of a session's "ended" banner that opens its answers.
    SeeAnswers,
}

/// The subset of [`Text`] the launcher and its notice use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstText {
    OpenHelp,
    New,
    /// The launcher's name when the team answered: "…, 1 new reply".
    NewReply,
    PartFailed,
    TryAgain,
}

/// The live Q&A panel's texts, in their own table so they ship in the panel's chunk only
/// (the app's chunk carries [`Lang::t`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveText {
    /// The panel's name.
    Title,
    /// After the count of people watching: "12 watching".
    Watching,
    /// The host's stream link.
    Stream,
    Loading,
    /// The session is not in the feed (404).
    Unavailable,
    NoQuestions,
    /// Over, with nothing answered.
    NoAnswers,
    Ended,
    /// The ask form's note: what is asked is public in the session.
    PublicNote,
    /// A question could not be sent (network).
    SendFailed,
    Upvote,
    Votes,
    /// Marks the visitor's own questions.
    Mine,
    Pinned,
    Waiting,
    Answered,
    /// Marked done: answered out loud.
    Done,
    /// The visitor's own question, hidden by the host.
    HiddenMine,
    /// Opens the story an answer links to.
    OpenStory,
    /// The ask form's text looks like card numbers, bank details or passwords.
    Sensitive,
}

impl Lang {
    /// The first built-in language among `preferred` (a `data-lang` value, then the
    /// browser's languages), by primary subtag; English otherwise. `no` and `nn` map to
    /// Bokmål, the written standard most Norwegians read.
    pub fn pick<'a>(preferred: impl IntoIterator<Item = &'a str>) -> Lang {
        preferred
            .into_iter()
            .find_map(Lang::builtin)
            .unwrap_or(Lang::En)
    }

    /// The built-in language of `tag`, by primary subtag (`es-MX` is Spanish; `no`, `nn`
    /// Bokmål), if it is one.
    pub fn builtin(tag: &str) -> Option<Lang> {
        let primary = tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "es" => Some(Lang::Es),
            "nb" | "no" | "nn" => Some(Lang::Nb),
            _ => None,
        }
    }

    /// The BCP 47 tag used for `lang=` and `Intl`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
            Lang::Nb => "nb",
        }
    }

    /// The texts the widget's first chunk shows, in their own table so that chunk does not
    /// carry every translation ([`Lang::t`] answers the same for these).
    pub fn first(self, text: FirstText) -> &'static str {
        match (self, text) {
            (Lang::En, FirstText::OpenHelp) => "Open help stories",
            (Lang::Es, FirstText::OpenHelp) => "Abrir historias de ayuda",
            (Lang::Nb, FirstText::OpenHelp) => "Åpne hjelpehistorier",
            (Lang::En, FirstText::New) => "new",
            (Lang::Es, FirstText::New) => "nuevo",
            (Lang::Nb, FirstText::New) => "ny",
            (Lang::En, FirstText::PartFailed) => {
                "This part of help couldn't load. Check your connection."
            }
            (Lang::Es, FirstText::PartFailed) => {
                "Esta parte de la ayuda no se pudo cargar. Revisa tu conexión."
            }
            (Lang::Nb, FirstText::PartFailed) => {
                "Denne delen av hjelpen kunne ikke lastes. Sjekk tilkoblingen."
            }
            (Lang::En, FirstText::NewReply) => "new reply",
            (Lang::Es, FirstText::NewReply) => "respuesta nueva",
            (Lang::Nb, FirstText::NewReply) => "nytt svar",
            (Lang::En, FirstText::TryAgain) => "Try again",
            (Lang::Es, FirstText::TryAgain) => "Reintentar",
            (Lang::Nb, FirstText::TryAgain) => "Prøv igjen",
        }
    }

    pub fn t(self, text: Text) -> &'static str {
        use Text::*;
        match (self, text) {
            (l, OpenHelp) => l.first(FirstText::OpenHelp),
            (l, New) => l.first(FirstText::New),
            (l, PartFailed) => l.first(FirstText::PartFailed),
            (l, TryAgain) => l.first(FirstText::TryAgain),
            (Lang::En, HelpStories) => "Help stories",
            (Lang::Es, HelpStories) => "Historias de ayuda",
            (Lang::Nb, HelpStories) => "Hjelpehistorier",
            (Lang::En, Close) => "Close",
            (Lang::Es, Close) => "Cerrar",
            (Lang::Nb, Close) => "Lukk",
            (Lang::En, Captions) => "Captions",
            (Lang::Es, Captions) => "Subtítulos",
            (Lang::Nb, Captions) => "Undertekster",
            (Lang::En, Pause) => "Pause",
            (Lang::Es, Pause) => "Pausar",
            (Lang::Nb, Pause) => "Pause",
            (Lang::En, Play) => "Play",
            (Lang::Es, Play) => "Reproducir",
            (Lang::Nb, Play) => "Spill av",
            (Lang::En, Previous) => "Previous",
            (Lang::Es, Previous) => "Anterior",
            (Lang::Nb, Previous) => "Forrige",
            (Lang::En, Next) => "Next",
            (Lang::Es, Next) => "Siguiente",
            (Lang::Nb, Next) => "Neste",
            (Lang::En, DidThisHelp) => "Did this help?",
            (Lang::Es, DidThisHelp) => "¿Te ha ayudado?",
            (Lang::Nb, DidThisHelp) => "Hjalp dette?",
            (Lang::En, Yes) => "Yes",
            (Lang::Es, Yes) => "Sí",
            (Lang::Nb, Yes) => "Ja",
            (Lang::En, No) => "No",
            (Lang::Es, No) => "No",
            (Lang::Nb, No) => "Nei",
            (Lang::En, SorryContact) => "Sorry about that. Our team can help:",
            (Lang::Es, SorryContact) => "Lo sentimos. Nuestro equipo puede ayudarte:",
            (Lang::Nb, SorryContact) => "Beklager. Teamet vårt kan hjelpe deg:",
            (Lang::En, LiveSessions) => "Live sessions",
            (Lang::Es, LiveSessions) => "Sesiones en directo",
            (Lang::Nb, LiveSessions) => "Direktesendinger",
            (Lang::En, SessionOver) => "The session is over",
            (Lang::Es, SessionOver) => "La sesión ha terminado",
            (Lang::Nb, SessionOver) => "Økten er over",
            (Lang::En, LiveNow) => "Live now",
            (Lang::Es, LiveNow) => "En directo",
            (Lang::Nb, LiveNow) => "Direkte nå",
            (Lang::En, Join) => "Join",
            (Lang::Es, Join) => "Unirse",
            (Lang::Nb, Join) => "Bli med",
            (Lang::En, StartsIn) => "Starts in",
            (Lang::Es, StartsIn) => "Empieza en",
            (Lang::Nb, StartsIn) => "Starter om",
            (Lang::En, AddToCalendar) => "Add to calendar",
            (Lang::Es, AddToCalendar) => "Añadir al calendario",
            (Lang::Nb, AddToCalendar) => "Legg til i kalender",
            (Lang::En, Send) => "Send",
            (Lang::Es, Send) => "Enviar",
            (Lang::Nb, Send) => "Send",
            (Lang::En, Thanks) => "Thanks for your answer!",
            (Lang::Es, Thanks) => "¡Gracias por tu respuesta!",
            (Lang::Nb, Thanks) => "Takk for svaret!",
            (Lang::En, Results) => "Results",
            (Lang::Es, Results) => "Resultados",
            (Lang::Nb, Results) => "Resultater",
            (Lang::En, YourAnswer) => "Your answer",
            (Lang::Es, YourAnswer) => "Tu respuesta",
            (Lang::Nb, YourAnswer) => "Ditt svar",
            (Lang::En, ContactUs) => "Contact us",
            (Lang::Es, ContactUs) => "Contáctanos",
            (Lang::Nb, ContactUs) => "Kontakt oss",
            (Lang::En, Unmute) => "Unmute",
            (Lang::Es, Unmute) => "Activar sonido",
            (Lang::Nb, Unmute) => "Slå på lyd",
            (Lang::En, Mute) => "Mute",
            (Lang::Es, Mute) => "Silenciar",
            (Lang::Nb, Mute) => "Slå av lyd",
            (Lang::En, MediaFailed) => "Couldn’t load this picture or video.",
            (Lang::Es, MediaFailed) => "No se pudo cargar la imagen o el vídeo.",
            (Lang::Nb, MediaFailed) => "Kunne ikke laste inn bildet eller videoen.",
            (Lang::En, Queued) => "Saved — we will send it when you are back online",
            (Lang::Es, Queued) => "Guardado: lo enviaremos cuando vuelvas a estar en línea",
            (Lang::Nb, Queued) => "Lagret – vi sender det når du er på nett igjen",
            (Lang::En, Seen) => "seen",
            (Lang::Es, Seen) => "visto",
            (Lang::Nb, Seen) => "sett",
            (Lang::En, LiveHelpOpenUntil) => "Live help open until",
            (Lang::Es, LiveHelpOpenUntil) => "Ayuda en directo abierta hasta las",
            (Lang::Nb, LiveHelpOpenUntil) => "Direktehjelp åpen til",
            (Lang::En, NextLiveHelp) => "Next live help",
            (Lang::Es, NextLiveHelp) => "Próxima ayuda en directo",
            (Lang::Nb, NextLiveHelp) => "Neste direktehjelp",
            (Lang::En, AskQuestion) => "Ask a question",
            (Lang::Es, AskQuestion) => "Haz una pregunta",
            (Lang::Nb, AskQuestion) => "Still et spørsmål",
            (Lang::En, Topic) => "Topic",
            (Lang::Es, Topic) => "Tema",
            (Lang::Nb, Topic) => "Emne",
            (Lang::En, YourQuestion) => "Your question",
            (Lang::Es, YourQuestion) => "Tu pregunta",
            (Lang::Nb, YourQuestion) => "Spørsmålet ditt",
            (Lang::En, AddPhoto) => "Add a photo",
            (Lang::Es, AddPhoto) => "Añadir una foto",
            (Lang::Nb, AddPhoto) => "Legg til bilde",
            (Lang::En, NotHere) => "We handle this topic through our other channels:",
            (Lang::Es, NotHere) => "Este tema lo atendemos por otros canales:",
            (Lang::Nb, NotHere) => "Dette emnet håndterer vi i andre kanaler:",
            (Lang::En, SensitiveWarning) => {
                "Never send card numbers, bank details or passwords here. Remove them, or use:"
            }
            (Lang::Es, SensitiveWarning) => {
                "No envíes aquí números de tarjeta, datos bancarios ni contraseñas. Quítalos o usa:"
            }
            (Lang::Nb, SensitiveWarning) => {
                "Send aldri kortnumre, bankdetaljer eller passord her. Fjern dem, eller bruk:"
            }
            (Lang::En, Waiting) => "Sent — we will answer here shortly.",
            (Lang::Es, Waiting) => "Enviado: te responderemos aquí en breve.",
            (Lang::Nb, Waiting) => "Sendt – vi svarer her snart.",
            (Lang::En, TeamReplied) => "Our team",
            (Lang::Es, TeamReplied) => "Nuestro equipo",
            (Lang::Nb, TeamReplied) => "Teamet vårt",
            (Lang::En, SearchHelp) => "Search help",
            (Lang::Es, SearchHelp) => "Buscar ayuda",
            (Lang::Nb, SearchHelp) => "Søk i hjelp",
            (Lang::En, NoResults) => "No articles found",
            (Lang::Es, NoResults) => "No hay artículos",
            (Lang::Nb, NoResults) => "Fant ingen artikler",
            (Lang::En, AllArticles) => "All help articles",
            (Lang::Es, AllArticles) => "Todos los artículos",
            (Lang::Nb, AllArticles) => "Alle hjelpeartikler",
            (Lang::En, DeleteConversation) => "Delete this conversation",
            (Lang::Es, DeleteConversation) => "Eliminar esta conversación",
            (Lang::Nb, DeleteConversation) => "Slett denne samtalen",
            (Lang::En, DeleteConfirm) => {
                "Delete your question, photo and our replies for good? This cannot be undone."
            }
            (Lang::Es, DeleteConfirm) => {
                "¿Eliminar para siempre tu pregunta, la foto y nuestras respuestas? No se puede deshacer."
            }
            (Lang::Nb, DeleteConfirm) => {
                "Slette spørsmålet, bildet og svarene våre for godt? Det kan ikke angres."
            }
            (Lang::En, DeleteForGood) => "Delete",
            (Lang::Es, DeleteForGood) => "Eliminar",
            (Lang::Nb, DeleteForGood) => "Slett",
            (Lang::En, Cancel) => "Cancel",
            (Lang::Es, Cancel) => "Cancelar",
            (Lang::Nb, Cancel) => "Avbryt",
            (Lang::En, YourEmail) => "Email (optional)",
            (Lang::Es, YourEmail) => "Correo electrónico (opcional)",
            (Lang::Nb, YourEmail) => "E-post (valgfritt)",
            (Lang::En, EmailConsent) => {
                "We use it only to answer this question, and erase it with the conversation."
            }
            (Lang::Es, EmailConsent) => {
                "Solo lo usamos para responder a esta pregunta y lo borramos con la conversación."
            }
            (Lang::Nb, EmailConsent) => {
                "Vi bruker den bare til å svare på dette spørsmålet, og sletter den med samtalen."
            }
            (Lang::En, AddMessage) => "Add a message",
            (Lang::Es, AddMessage) => "Añadir un mensaje",
            (Lang::Nb, AddMessage) => "Legg til en melding",
            (Lang::En, RepliesWhenBack) => "The team is away now: we reply when we are back.",
            (Lang::Es, RepliesWhenBack) => {
                "El equipo no está ahora: responderemos cuando volvamos."
            }
            (Lang::Nb, RepliesWhenBack) => "Teamet er borte nå: vi svarer når vi er tilbake.",
            (Lang::En, SeeAnswers) => "See the answers",
            (Lang::Es, SeeAnswers) => "Ver las respuestas",
            (Lang::Nb, SeeAnswers) => "Se svarene",
        }
    }

    /// The live Q&A panel's texts ([`LiveText`]).
    pub fn live(self, text: LiveText) -> &'static str {
        use LiveText::*;
        match (self, text) {
            (Lang::En, Title) => "Live Q&A",
            (Lang::Es, Title) => "Preguntas en directo",
            (Lang::Nb, Title) => "Direkte spørsmål og svar",
            (Lang::En, Watching) => "watching",
            (Lang::Es, Watching) => "viendo",
            (Lang::Nb, Watching) => "ser på",
            (Lang::En, Stream) => "Watch the stream",
            (Lang::Es, Stream) => "Ver la emisión",
            (Lang::Nb, Stream) => "Se sendingen",
            (Lang::En, Loading) => "Loading…",
            (Lang::Es, Loading) => "Cargando…",
            (Lang::Nb, Loading) => "Laster inn …",
            (Lang::En, Unavailable) => "This session isn't available.",
            (Lang::Es, Unavailable) => "Esta sesión no está disponible.",
            (Lang::Nb, Unavailable) => "Denne økten er ikke tilgjengelig.",
            (Lang::En, NoQuestions) => "No questions yet. Ask the first one.",
            (Lang::Es, NoQuestions) => "Aún no hay preguntas. Haz la primera.",
            (Lang::Nb, NoQuestions) => "Ingen spørsmål ennå. Still det første.",
            (Lang::En, NoAnswers) => "No questions were answered in this session.",
            (Lang::Es, NoAnswers) => "No se respondió ninguna pregunta en esta sesión.",
            (Lang::Nb, NoAnswers) => "Ingen spørsmål ble besvart i denne økten.",
            (Lang::En, Ended) => "This session is over. Here are its answers.",
            (Lang::Es, Ended) => "Esta sesión ha terminado. Aquí están sus respuestas.",
            (Lang::Nb, Ended) => "Denne økten er over. Her er svarene.",
            (Lang::En, PublicNote) => "Questions are shown to everyone in this session.",
            (Lang::Es, PublicNote) => "Las preguntas se muestran a todos en esta sesión.",
            (Lang::Nb, PublicNote) => "Spørsmål vises for alle i denne økten.",
            (Lang::En, SendFailed) => "Couldn't send. Check your connection and try again.",
            (Lang::Es, SendFailed) => "No se pudo enviar. Revisa tu conexión e inténtalo de nuevo.",
            (Lang::Nb, SendFailed) => "Kunne ikke sende. Sjekk tilkoblingen og prøv igjen.",
            (Lang::En, Upvote) => "Upvote",
            (Lang::Es, Upvote) => "Votar",
            (Lang::Nb, Upvote) => "Stem opp",
            (Lang::En, Votes) => "votes",
            (Lang::Es, Votes) => "votos",
            (Lang::Nb, Votes) => "stemmer",
            (Lang::En, Mine) => "Yours",
            (Lang::Es, Mine) => "Tuya",
            (Lang::Nb, Mine) => "Ditt",
            (Lang::En, Pinned) => "Pinned",
            (Lang::Es, Pinned) => "Fijada",
            (Lang::Nb, Pinned) => "Festet",
            (Lang::En, Waiting) => "Waiting for an answer",
            (Lang::Es, Waiting) => "Esperando respuesta",
            (Lang::Nb, Waiting) => "Venter på svar",
            (Lang::En, Answered) => "Answered",
            (Lang::Es, Answered) => "Respondida",
            (Lang::Nb, Answered) => "Besvart",
            (Lang::En, Done) => "Answered live",
            (Lang::Es, Done) => "Respondida en directo",
            (Lang::Nb, Done) => "Besvart direkte",
            (Lang::En, HiddenMine) => "The host hid your question.",
            (Lang::Es, HiddenMine) => "El presentador ha ocultado tu pregunta.",
            (Lang::Nb, HiddenMine) => "Verten skjulte spørsmålet ditt.",
            (Lang::En, OpenStory) => "Show me how",
            (Lang::Es, OpenStory) => "Muéstrame cómo",
            (Lang::Nb, OpenStory) => "Vis meg hvordan",
            (Lang::En, Sensitive) => {
                "Never share card numbers, bank details or passwords here: everyone in the session sees your question."
            }
            (Lang::Es, Sensitive) => {
                "No compartas aquí números de tarjeta, datos bancarios ni contraseñas: todos en la sesión ven tu pregunta."
            }
            (Lang::Nb, Sensitive) => {
                "Del aldri kortnumre, bankdetaljer eller passord her: alle i økten ser spørsmålet ditt."
            }
        }
    }

    /// "Usually replies within 2 h" for a median first reply of `minutes` (a bucket bound
    /// of [`crate::question::REPLY_BUCKETS_MIN`]).
    pub fn usually_replies(self, minutes: u32) -> String {
        let (n, unit) = coarse(i64::from(minutes) * 60_000);
        match self {
            Lang::En => format!("Usually replies within {n} {unit}"),
            Lang::Es => format!("Suele responder en menos de {n} {unit}"),
            Lang::Nb => format!("Svarer vanligvis innen {n} {unit}"),
        }
    }

    /// "expires in 3 h" / "expires in 12 min", from the server-corrected clock.
    pub fn expires_in(self, ms: crate::Millis) -> String {
        let (n, unit) = coarse(ms);
        match self {
            Lang::En => format!("expires in {n} {unit}"),
            Lang::Es => format!("caduca en {n} {unit}"),
            Lang::Nb => format!("utløper om {n} {unit}"),
        }
    }
}

/// A duration as one rounded-up figure and unit: "45 s", "12 min", "3 h", "2 d".
pub fn coarse(ms: crate::Millis) -> (i64, &'static str) {
    let s = (ms.max(0) + 999) / 1000;
    if s < 60 {
        (s, "s")
    } else if s < 3_600 {
        ((s + 59) / 60, "min")
    } else if s < 86_400 * 2 {
        ((s + 3_599) / 3_600, "h")
    } else {
        ((s + 86_399) / 86_400, "d")
    }
}

/// A countdown clock: `1:02:03` or `4:05`.
pub fn countdown(seconds: i64) -> String {
    let s = seconds.max(0);
    let (h, m, s) = (s / 3_600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// Whether text in this language runs right to left (any BCP 47 tag).
pub fn is_rtl(tag: &str) -> bool {
    let primary = tag
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(
        primary.as_str(),
        "ar" | "he" | "iw" | "fa" | "ur" | "ps" | "sd" | "yi" | "dv" | "ug" | "ckb"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_first_built_in_language() {
        assert_eq!(Lang::pick(["fr-FR", "es-MX", "en"]), Lang::Es);
        assert_eq!(Lang::pick(["nn-NO"]), Lang::Nb);
        assert_eq!(Lang::pick(["no"]), Lang::Nb);
        assert_eq!(Lang::pick(["EN_gb"]), Lang::En);
        assert_eq!(Lang::pick(["de", ""]), Lang::En);
        assert_eq!(Lang::pick([]), Lang::En);
    }

    #[test]
    fn every_text_is_translated() {
        for lang in [Lang::En, Lang::Es, Lang::Nb] {
            for text in [
                Text::DidThisHelp,
                Text::LiveNow,
                Text::Queued,
                Text::AddToCalendar,
                Text::DeleteConversation,
                Text::DeleteConfirm,
                Text::DeleteForGood,
                Text::Cancel,
                Text::PartFailed,
                Text::TryAgain,
                Text::YourEmail,
                Text::EmailConsent,
                Text::AddMessage,
                Text::RepliesWhenBack,
                Text::SeeAnswers,
            ] {
                assert!(!lang.t(text).is_empty());
            }
        }
        assert_eq!(Lang::Es.t(Text::DidThisHelp), "¿Te ha ayudado?");
    }

    #[test]
    fn the_live_panel_speaks_every_language() {
        use LiveText::*;
        let all = [
            Title,
            Watching,
            Stream,
            Loading,
            Unavailable,
            NoQuestions,
            NoAnswers,
            Ended,
            PublicNote,
            SendFailed,
            Upvote,
            Votes,
            Mine,
            Pinned,
            Waiting,
            Answered,
            Done,
            HiddenMine,
            OpenStory,
            Sensitive,
        ];
        for lang in [Lang::En, Lang::Es, Lang::Nb] {
            for text in all {
                assert!(!lang.live(text).is_empty());
            }
        }
        assert_eq!(Lang::Es.live(Watching), "viendo");
        assert_ne!(Lang::En.live(Ended), Lang::Es.live(Ended));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(Lang::En.expires_in(3 * 3_600_000), "expires in 3 h");
        assert_eq!(
            Lang::En.expires_in(3 * 3_600_000 - 60_000),
            "expires in 3 h"
        );
        assert_eq!(Lang::Es.expires_in(12 * 60_000), "caduca en 12 min");
        assert_eq!(Lang::Nb.expires_in(5 * 86_400_000), "utløper om 5 d");
        assert_eq!(coarse(0), (0, "s"));
        assert_eq!(coarse(59_001), (1, "min"));
        assert_eq!(coarse(58_001), (59, "s"));
        assert_eq!(countdown(3_723), "1:02:03");
        assert_eq!(countdown(65), "1:05");
        assert_eq!(countdown(-5), "0:00");
        assert_eq!(Lang::En.usually_replies(120), "Usually replies within 2 h");
        assert_eq!(
            Lang::En.usually_replies(15),
            "Usually replies within 15 min"
        );
        assert_eq!(
            Lang::Nb.usually_replies(2_880),
            "Svarer vanligvis innen 2 d"
        );
    }

    #[test]
    fn right_to_left() {
        assert!(is_rtl("ar"));
        assert!(is_rtl("he-IL"));
        assert!(is_rtl("fa_IR"));
        assert!(!is_rtl("en"));
        assert!(!is_rtl("nb"));
    }
}
