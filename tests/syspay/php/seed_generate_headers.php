<?php
function generateHeaders($partnerLogin, $passphrase, $nonce = null, $timestamp = null) {
  $nonce = null === $nonce ? md5(rand(), true) : $nonce;
  $timestamp = null === $timestamp ? time() : $timestamp;

  $digest = base64_encode(sha1($nonce . $timestamp . $passphrase, true));
  $b64nonce = base64_encode($nonce);

  $header = sprintf('X-Wsse: AuthToken PartnerAPILogin="%s", PasswordDigest="%s", Nonce="%s", Created="%d"',
                      $partnerLogin, $digest, $b64nonce, $timestamp);

  return $header;
}
