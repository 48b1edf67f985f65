// Posts the passback form to the merchant as soon as the page has loaded (a file, not an
// onload attribute: the page's Content-Security-Policy allows no inline script).
document.getElementById("passback").submit();
