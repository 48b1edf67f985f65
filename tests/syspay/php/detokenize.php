<?php
// A partner integration as the seed describes it: the seed's generateHeaders, then php-curl.
// Usage: php detokenize.php BASE_URL TOKEN_ID TYPE CREATED  (CREATED: the server clock's epoch)
require __DIR__ . '/seed_generate_headers.php';

[$script, $base, $tokenId, $type, $created] = $argv;
$header = generateHeaders("myPartnerLogin", "myPartnerPassphrase", null, (int) $created);
$body = json_encode(["type" => $type, "viewer" => "John Doe", "company_reference" => "4242"]);

$ch = curl_init(rtrim($base, '/') . "/api/v2/partner/token/$tokenId/detokenize");
curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
curl_setopt($ch, CURLOPT_POST, true);
curl_setopt($ch, CURLOPT_POSTFIELDS, $body);
curl_setopt($ch, CURLOPT_HTTPHEADER, [$header, 'Content-Type: application/json', 'Accept: application/json']);
$response = curl_exec($ch);
$status = curl_getinfo($ch, CURLINFO_HTTP_CODE);
$decoded = json_decode($response);
if ($status !== 200 || !isset($decoded->redirect_url)) {
    fwrite(STDERR, "detokenize failed: HTTP $status $response\n");
    exit(1);
}
// Follow the one-time URL, as the user's browser would.
$view = curl_init($decoded->redirect_url);
curl_setopt($view, CURLOPT_RETURNTRANSFER, true);
$page = curl_exec($view);
echo json_encode([
    "class" => $decoded->class,
    "status" => curl_getinfo($view, CURLINFO_HTTP_CODE),
    "content_type" => curl_getinfo($view, CURLINFO_CONTENT_TYPE),
    "bytes" => strlen($page),
    "shows_holder" => strpos($page, "John Doe") !== false,
]);
