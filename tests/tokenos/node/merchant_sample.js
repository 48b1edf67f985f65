// What Token.io's merchant sample (tokenio/merchant-sample-js, SDK @token-io/tpp) does at start-up
// and in its payment routes, driven against mockbank with only the base URL changed: a DOMAIN
// alias carrying +noverify, a profile and a profile picture, a standing order, a future-dated
// transfer that executes when the app clock reaches its date, and the one-step payment from the
// sample's ngp-cbi-05034 account named by IBAN.
// Usage: node merchant_sample.js <tokenos base url> <png file>
// Prints one JSON line per step ({"step": ..., ...}) and exits non-zero on the first failure.
'use strict';

const assert = require('assert');
const fs = require('fs');
const axios = require('axios');
const {TokenClient} = require('@token-io/tpp');

const [base, picturePath] = process.argv.slice(2);
if (!base || !picturePath) {
    console.error('usage: node merchant_sample.js <tokenos base url> <png file>');
    process.exit(2);
}
const control = base.replace(/\/tokenos\/?$/, '') + '/_mockbank';
const Token = new TokenClient({customSdkUrl: base, developerKey: 'mockbank-dev-key'});
const report = (step, data = {}) => console.log(JSON.stringify({step, ...data}));
const destination = {sepa: {iban: 'DE16700222000072880129', bic: 'INGDDEFFXXX'},
    customerData: {legalNames: ['merchant-sample']}};

// The payer's side: choose the bank and type the email on the consent form, then approve.
async function consent(url, fields) {
    const form = new URLSearchParams({...fields, decision: 'approve'}).toString();
    const res = await axios.post(url, form, {
        maxRedirects: 0,
        validateStatus: status => status === 302,
        headers: {'Content-Type': 'application/x-www-form-urlencoded'},
    });
    return res.headers.location;
}

async function appDate(daysAhead) {
    const clock = (await axios.get(`${control}/clock`)).data;
    const day = new Date(clock.epoch * 1000 + daysAhead * 86400000);
    return day.toISOString().split('T')[0];
}

const advance = seconds => axios.post(`${control}/clock`, {advance: seconds});

async function payerConsents(member, request, csrf, fields) {
    const stored = await member.storeTokenRequest(request);
    const callback = await consent(Token.generateTokenRequestUrl(stored.id), fields);
    return Token.parseTokenRequestCallbackUrl(callback, csrf);
}

async function main() {
    // Start-up: the sample's alias, profile and picture.
    const alias = {type: 'DOMAIN',
        value: `msjs-${Math.random().toString(36).substring(2, 10)}+noverify@example.com`};
    const member = await Token.createMember(alias, Token.MemoryCryptoEngine);
    await member.setProfile({displayNameFirst: 'Demo Merchant'});
    const png = fs.readFileSync(picturePath);
    await member.setProfilePicture('image/png', png);
    const original = await member.getProfilePicture(member.memberId(), 'ORIGINAL');
    assert.strictEqual(Buffer.from(original.payload.data, 'base64').compare(png), 0);
    const small = await member.getProfilePicture(member.memberId(), 'SMALL');
    const blob = await member.getBlob(small.id);
    assert.strictEqual(blob.id, small.id);
    report('start-up', {memberId: member.memberId(), alias: (await member.firstAlias()).value,
        pictureType: original.payload.type, smallBytes: Buffer.from(small.payload.data, 'base64').length,
        originalBytes: png.length});

    const fields = {bankId: 'iron', email: 'payer@example.com'};

    // A monthly standing order from today for a year.
    let csrf = Token.Util.generateNonce();
    const standingOrder = Token.createStandingOrderTokenRequest(
        '10.00', 'EUR', 'MNTH', await appDate(0), await appDate(365))
        .addTransferDestination(destination)
        .setDescription('Monthly subscription')
        .setToAlias(alias)
        .setToMemberId(member.memberId())
        .setRedirectUrl('http://localhost:3000/redeem-standing-order')
        .setCSRFToken(csrf)
        .setRefId(Token.Util.generateNonce());
    let parsed = await payerConsents(member, standingOrder, csrf, fields);
    const submission = await member.redeemStandingOrderToken(parsed.tokenId);
    await advance(6);
    const later = await member.getStandingOrderSubmission(submission.id);
    const listed = await member.getStandingOrderSubmissions(undefined, 10);
    report('standing-order', {tokenId: parsed.tokenId, first: submission.status,
        later: later.status, frequency: later.payload.frequency,
        listed: listed.submissions.map(s => s.id).includes(submission.id)});

    // A transfer executed two days from now (by the app clock).
    csrf = Token.Util.generateNonce();
    const executionDate = await appDate(2);
    const futureDated = Token.createTransferTokenRequest('7.50', 'EUR')
        .setToAlias(alias)
        .setToMemberId(member.memberId())
        .setDescription('Future dated')
        .setRedirectUrl('http://localhost:3000/redeem-future-dated')
        .setCSRFToken(csrf)
        .setRefId(Token.Util.generateNonce())
        .setExecutionDate(executionDate)
        .addTransferDestination(destination);
    parsed = await payerConsents(member, futureDated, csrf, fields);
    const token = await member.getToken(parsed.tokenId);
    assert.strictEqual(token.payload.transfer.executionDate, executionDate);
    const transfer = await member.redeemToken(token);
    const statuses = [transfer.status];
    await advance(86400);
    statuses.push((await member.getTransfer(transfer.id)).status);
    await advance(86400);
    statuses.push((await member.getTransfer(transfer.id)).status);
    report('future-dated', {transferId: transfer.id, executionDate, statuses});

    // The one-step payment: the source account named by IBAN at ngp-cbi-05034.
    csrf = Token.Util.generateNonce();
    const oneStep = Token.createTransferTokenRequest('5.00', 'EUR')
        .setDescription('One step')
        .setToAlias(alias)
        .setToMemberId(member.memberId())
        .setRedirectUrl('http://localhost:3000/redeem')
        .setCSRFToken(csrf)
        .setRefId(Token.Util.generateNonce())
        .setSource({account: {sepa: {iban: 'IT77O0848283352871412938123'}}, bankId: 'ngp-cbi-05034'})
        .setBankId('ngp-cbi-05034')
        .addTransferDestination(destination);
    parsed = await payerConsents(member, oneStep, csrf, {email: 'payer@example.com'});
    const oneStepToken = await member.getToken(parsed.tokenId);
    const paid = await member.redeemToken(oneStepToken);
    report('one-step', {issuer: oneStepToken.payload.issuer.id,
        source: oneStepToken.payload.transfer.instructions.source.account.token.accountId,
        status: paid.status});
    report('done');
}

main().catch(err => {
    console.error(err && err.stack ? err.stack : err);
    if (err && err.response) console.error(err.response.status, err.response.data);
    process.exit(1);
});
