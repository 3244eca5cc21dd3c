"""Test sentences per language and a Unicode-aware word error rate, shared by the language tests and the bench."""

import re
import unicodedata

# Customer-service sentences without digits (Whisper writes numbers its own way in each language).
SENTENCES: dict[str, tuple[str, ...]] = {
    "en": ("Hello, I would like to know where my parcel is.",
           "I want to cancel my subscription, please.",
           "Can you send the invoice to my email address?",
           "My package arrived damaged and I would like a refund."),
    "fr": ("Bonjour, je voudrais savoir où est mon colis.",
           "Je veux annuler mon abonnement, s'il vous plaît.",
           "Pouvez-vous envoyer la facture à mon adresse électronique ?",
           "Mon paquet est arrivé abîmé et je voudrais un remboursement."),
    "de": ("Guten Tag, ich möchte wissen, wo mein Paket ist.",
           "Ich möchte mein Abonnement bitte kündigen.",
           "Können Sie die Rechnung an meine E-Mail-Adresse schicken?",
           "Mein Paket ist beschädigt angekommen und ich möchte eine Erstattung."),
    "es": ("Hola, quiero saber dónde está mi paquete.",
           "Quiero cancelar mi suscripción, por favor.",
           "¿Puede enviar la factura a mi correo electrónico?",
           "Mi paquete llegó dañado y quiero un reembolso."),
    "it": ("Buongiorno, vorrei sapere dove si trova il mio pacco.",
           "Voglio annullare il mio abbonamento, per favore.",
           "Può inviare la fattura al mio indirizzo email?",
           "Il mio pacco è arrivato danneggiato e vorrei un rimborso."),
    "pt": ("Olá, eu gostaria de saber onde está o meu pacote.",
           "Quero cancelar a minha assinatura, por favor.",
           "Pode enviar a fatura para o meu email?",
           "O meu pacote chegou danificado e eu quero um reembolso."),
    "nl": ("Goedendag, ik wil graag weten waar mijn pakket is.",
           "Ik wil mijn abonnement opzeggen, alstublieft.",
           "Kunt u de factuur naar mijn e-mailadres sturen?",
           "Mijn pakket is beschadigd aangekomen en ik wil mijn geld terug."),
    "pl": ("Dzień dobry, chciałbym wiedzieć, gdzie jest moja paczka.",
           "Chcę anulować moją subskrypcję, proszę.",
           "Czy może pan wysłać fakturę na mój adres email?",
           "Moja paczka przyszła uszkodzona i chcę zwrotu pieniędzy."),
    "sv": ("Hej, jag vill veta var mitt paket är.",
           "Jag vill säga upp min prenumeration, tack.",
           "Kan du skicka fakturan till min e-postadress?",
           "Mitt paket kom fram skadat och jag vill ha pengarna tillbaka."),
    "ru": ("Здравствуйте, я хочу узнать, где моя посылка.",
           "Я хочу отменить мою подписку, пожалуйста.",
           "Вы можете отправить счёт на мою электронную почту?",
           "Моя посылка пришла повреждённой, и я хочу вернуть деньги."),
    "tr": ("Merhaba, paketimin nerede olduğunu öğrenmek istiyorum.",
           "Aboneliğimi iptal etmek istiyorum, lütfen.",
           "Faturayı e-posta adresime gönderebilir misiniz?",
           "Paketim hasarlı geldi ve para iadesi istiyorum."),
}


def words(text: str) -> list[str]:
    """Lower-case words of any script, accents kept, punctuation and hyphens dropped (NFC first)."""
    text = unicodedata.normalize("NFC", text).lower().replace("-", " ").replace("'", " ").replace("’", " ")
    return re.findall(r"\w+", text)


def word_error_rate(reference: str, hypothesis: str) -> tuple[int, int]:
    """(word edits, reference words): substitutions + deletions + insertions after `words()`."""
    ref = words(reference)
    return edit_distance(ref, words(hypothesis)), len(ref)


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Word substitutions + deletions + insertions that turn `ref` into `hyp`."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]
