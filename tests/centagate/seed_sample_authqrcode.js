// The seed's Node.js authQRCode sample, run against mockbank by test_samples.py.
// Kept as the seed wrote it except where it cannot run as written (marked "fixed"):
// placeholders come from the environment, `sha256` is quoted, the body sends the fields the
// seed's parameter table lists (the sample sent signature/algorithm/plainText, which are
// undefined), and it speaks http to the local server (port and path prefix from MOCKBANK_*).
const http = require('http') // fixed: http to 127.0.0.1, not https to <domain_name>
var crypto = require('crypto');
const env = process.env;
var username = env.CG_USERNAME;
var devAccId = env.CG_DEVACCID;
var otp = env.CG_OTP;
var challenge = env.CG_CHALLENGE;
var details = env.CG_DETAILS;
var integrationKey = env.CG_INTEGRATION_KEY;
var transactionValue = env.CG_TRANSACTION_VALUE;
var isTransaction = '1';
var time = Math.round((new Date()).getTime() / 1000);
var unixTimestamp = time.toString();
var authToken = env.CG_AUTH_TOKEN;
var supportFido = "";
var ipAddress = "127.0.0.1";
var userAgent = "node-sample";
var browserFp = "";
var secretKey = env.CG_SECRET_KEY;
var hmacText = username + devAccId + otp + challenge + details + authToken + integrationKey + unixTimestamp + supportFido + ipAddress + userAgent + browserFp;
var hash, hmac;
/* generate hmac value*/
hmac = crypto.createHmac('sha256', secretKey); // fixed: 'sha256' quoted
hmac.write(hmacText);
hmac.end();
hash = hmac.read().toString('hex');
const data = JSON.stringify({
username: username,
devAccId: devAccId, // fixed: the table's fields instead of signature/algorithm/plainText
otp: otp,
challenge: challenge,
details: details,
authToken: authToken,
integrationKey: integrationKey,
unixTimestamp: unixTimestamp,
ipAddress: ipAddress,
supportFido: supportFido,
userAgent: userAgent,
browserFp: browserFp,
transactionValue: transactionValue,
isTransaction: isTransaction,
hmac: hash
})
const options = {
hostname: "127.0.0.1",
port: Number(env.MOCKBANK_PORT),
path: env.MOCKBANK_PREFIX + '/v2/CentagateWS/webresources/auth/authQRCode',
method: 'POST',
headers: {
'Accept': 'application/json',
'Content-Type': 'application/json',
}
}
const req = http.request(options, res =>{
console.log(`HTTP Status Code: ${res.statusCode}`)
var body = '';
res.on('data', function(d){
body += d;
var parsed = JSON.parse(body);
if (parsed.code == 0){
console.log('Authentication Succeed');
console.log('Response:');
console.log(body);
}
else {
console.log('Authentication Fail, ' +'Message:' + parsed.message);
console.log('Code:' + parsed.code);
}
})
})
req.on('ERROR', error => {
console.error(error)
})
req.write(data)
req.end()
