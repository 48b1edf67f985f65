"""Texts of the consent pages: English and German (``?lang=de``)."""

from __future__ import annotations

from decimal import Decimal

LANGUAGES = ("en", "de")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Token: approve a request",
        "requested_by": "{name} asks for",
        "transfer": "a payment of up to {amount} {currency}",
        "standing_order": "a standing order of {amount} {currency} ({frequency}) from {start}",
        "execution_date": "executed on {date}",
        "access": "access to your account information: {resources}",
        "choose_bank": "Choose your bank",
        "continue": "Continue",
        "enter_email": "Enter the email address of your Token account",
        "email": "Email",
        "choose_accounts": "Choose the account(s) at {bank}",
        "approve": "Approve",
        "deny": "Deny",
        "error_title": "This request cannot be used",
        "description": "Description",
        "reference": "Reference",
        "sandbox": "mockbank sandbox: no real money moves.",
        "unknown_request": "This link does not lead to a request. Go back to the site that "
        "sent you here and start again.",
        "expired_request": "This request has expired. Go back to the site that sent you here "
        "and start again.",
        "answered_request": "This request has already been answered.",
        "unknown_email": "There is no Token user with the email {email}.",
        "resource_account": "account details",
        "resource_balance": "balances",
        "resource_transactions": "transactions",
        "resource_transferDestinations": "payment details",
        "resource_fundsConfirmation": "confirmation of funds",
        "resource_standingOrders": "standing orders",
        "bank_unavailable_currency": "holds {bank_currency} accounts; this payment is in "
        "{currency}",
        "bank_unavailable_payments": "does not offer payments through Token",
        "bank_unavailable_information": "does not share account information through Token",
        "bank_unavailable_country": "is not in {country}",
        "back_to_banks": "← Choose another bank",
        "back_to_email": "← Use another email",
        "no_accounts": "You have no account at {bank} that can be used for this request. "
        "Choose another bank, or deny the request.",
        "account_label": "{name} ({currency}), account number ending {last4}",
    },
    "de": {
        "title": "Token: Anfrage bestätigen",
        "requested_by": "{name} bittet um",
        "transfer": "eine Zahlung von bis zu {amount} {currency}",
        "standing_order": "ein Dauerauftrag über {amount} {currency} ({frequency}) ab {start}",
        "execution_date": "ausgeführt am {date}",
        "access": "Zugriff auf Ihre Kontoinformationen: {resources}",
        "choose_bank": "Wählen Sie Ihre Bank",
        "continue": "Weiter",
        "enter_email": "Geben Sie die E-Mail-Adresse Ihres Token-Kontos ein",
        "email": "E-Mail",
        "choose_accounts": "Wählen Sie das Konto / die Konten bei {bank}",
        "approve": "Zustimmen",
        "deny": "Ablehnen",
        "error_title": "Diese Anfrage kann nicht verwendet werden",
        "description": "Beschreibung",
        "reference": "Referenz",
        "sandbox": "mockbank-Sandbox: Es wird kein echtes Geld bewegt.",
        "unknown_request": "Zu diesem Link gibt es keine Anfrage. Kehren Sie zu der Website "
        "zurück, die Sie hierher geleitet hat, und beginnen Sie erneut.",
        "expired_request": "Diese Anfrage ist abgelaufen. Kehren Sie zu der Website zurück, "
        "die Sie hierher geleitet hat, und beginnen Sie erneut.",
        "answered_request": "Diese Anfrage wurde bereits beantwortet.",
        "unknown_email": "Es gibt keinen Token-Nutzer mit der E-Mail-Adresse {email}.",
        "resource_account": "Kontodaten",
        "resource_balance": "Kontostände",
        "resource_transactions": "Umsätze",
        "resource_transferDestinations": "Zahlungsdaten",
        "resource_fundsConfirmation": "Bestätigung der Deckung",
        "resource_standingOrders": "Daueraufträge",
        "bank_unavailable_currency": "führt Konten in {bank_currency}; diese Zahlung ist in "
        "{currency}",
        "bank_unavailable_payments": "bietet keine Zahlungen über Token an",
        "bank_unavailable_information": "teilt keine Kontoinformationen über Token",
        "bank_unavailable_country": "ist nicht in {country}",
        "back_to_banks": "← Andere Bank wählen",
        "back_to_email": "← Andere E-Mail-Adresse",
        "no_accounts": "Sie haben bei {bank} kein Konto, das für diese Anfrage verwendet "
        "werden kann. Wählen Sie eine andere Bank oder lehnen Sie die Anfrage ab.",
        "account_label": "{name} ({currency}), Kontonummer endet auf {last4}",
    },
}


def format_amount(value: Decimal, lang: str) -> str:
    """Two decimals with the language's separators: 1,234.50 (en), 1.234,50 (de)."""
    text = f"{value:,.2f}"
    if lang == "de":
        text = text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")
    return text


def pick_language(value: str | None) -> str:
    """``lang`` may be ``de``, ``de-DE`` or anything else (English)."""
    code = (value or "en").split("-")[0].split("_")[0].lower()
    return code if code in LANGUAGES else "en"
