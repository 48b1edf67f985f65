// The documented TokenOS flow, driven by the official SDK @token-io/tpp@1.0.57 against mockbank.
// Usage: node flow.js <base url, e.g. http://127.0.0.1:8787/tokenos>
// Prints one JSON line per step ({"step": ..., ...}) and exits non-zero on the first failure.
'use strict';

const assert = require('assert');
const axios = require('axios');
const {TokenClient} = require('@token-io/tpp');

const base = process.argv[2];
if (!base) {
    console.error('usage: node flow.js <tokenos base url>');
    process.exit(2);
}
const control = base.replace(/\/tokenos\/?$/, '') + '/_mockbank';
const Token = new TokenClient({customSdkUrl: base, developerKey: 'mockbank-dev-key'});
const report = (step, data = {}) => console.log(JSON.stringify({step, ...data}));

// The consent web app is an HTML form; scripts approve or deny by POSTing its fields.
async function consent(url, decision) {
    const res = await axios.post(url, `decision=${decision}`, {
        maxRedirects: 0,
        validateStatus: status => status === 302,
        headers: {'Content-Type': 'application/x-www-form-urlencoded'},
    });
    return res.headers.location;
}

async function expectFailure(promise, pattern) {
    try {
        await promise;
    } catch (err) {
        const text = `${err.message} ${err.response ? err.response.status : ''}`;
        assert(pattern.test(text), `unexpected error: ${text}`);
        return {message: err.message, status: err.response && err.response.status,
            tokenError: err.response && err.response.headers['token-error']};
    }
    throw new Error(`expected a failure matching ${pattern}`);
}

async function main() {
    // 1. A business member with a DOMAIN alias and a profile.
    const alias = {type: 'DOMAIN', value: `${Token.Util.generateNonce()}.com.noverify`};
    const member = await Token.createMember(alias, Token.MemoryCryptoEngine);
    await member.setProfile({displayNameFirst: 'Merchant 123'});
    const aliases = await member.aliases();
    assert.strictEqual(aliases[0].value, alias.value);
    const resolved = await Token.resolveAlias(alias);
    assert.strictEqual(resolved.id, member.memberId());
    const profile = await member.getProfile(member.memberId());
    assert.strictEqual(profile.displayNameFirst, 'Merchant 123');
    assert.strictEqual(await member.getProfileName(member.memberId()), 'Merchant 123');
    // No picture uploaded yet: NOT_FOUND (merchant_sample.js uploads one).
    const picture = await expectFailure(member.getProfilePicture(member.memberId(), 'SMALL'), /404/);
    assert.strictEqual(picture.tokenError, 'NOT_FOUND');
    report('member', {memberId: member.memberId(), alias: aliases[0].value});

    // 2. Banks, with a feature filter and paging.
    const {banks, paging} = await Token.getBanks();
    const payment = await Token.getBanks({bankFeatures: {
        'bank_features.supports_send_payment.value': 'true'}, perPage: 1, page: 2});
    report('banks', {ids: banks.map(b => b.id), total: paging.totalCount,
        paymentPage2: payment.banks.map(b => b.id), paymentTotal: payment.paging.totalCount});

    // 3. A transfer token request with a CSRF token and callback state.
    const csrf = Token.Util.generateNonce();
    const transferRequest = Token.createTransferTokenRequest(10.00, 'EUR')
        .setToMemberId(member.memberId())
        .setFromAlias('EMAIL', 'payer@example.com')
        .setDescription('Book purchase')
        .setRedirectUrl('https://tpp.example.com/callback')
        .setBankId('iron')
        .setCallbackState('cart-42')
        .addTransferDestination({sepa: {iban: 'DE44500105175407324931', bic: 'INGDDEFFXXX'}})
        .addDestination({sepa: {iban: 'DE44500105175407324931'}})
        .setCSRFToken(csrf);
    const stored = await member.storeTokenRequest(transferRequest);
    const retrieved = await Token.retrieveTokenRequest(stored.id);
    assert.strictEqual(retrieved.tokenRequest.requestPayload.transferBody.lifetimeAmount, '10');
    const url = Token.generateTokenRequestUrl(stored.id);
    report('transfer-request', {requestId: stored.id, url});

    // 4. Consent by form POST; parse the callback (a wrong CSRF token is rejected first).
    const callback = await consent(url, 'approve');
    const wrong = await expectFailure(
        Token.parseTokenRequestCallbackUrl(callback, 'not-the-csrf-token'), /Invalid CSRF token/);
    const parsed = await Token.parseTokenRequestCallbackUrl(callback, csrf);
    assert.strictEqual(parsed.innerState, 'cart-42');
    const result = await Token.getTokenRequestResult(stored.id);
    assert.strictEqual(result.tokenId, parsed.tokenId);
    report('callback', {tokenId: parsed.tokenId, innerState: parsed.innerState,
        wrongCsrf: wrong.message});

    // 5. Redeem, then watch the transfer settle as the clock moves.
    const token = await member.getToken(parsed.tokenId);
    assert.deepStrictEqual(token.payloadSignatures.map(s => s.action), ['ENDORSED', 'ENDORSED']);
    // Where the money goes travels from the request into the token the payer endorsed.
    assert.deepStrictEqual(token.payload.transfer.instructions.transferDestinations,
        [{sepa: {iban: 'DE44500105175407324931', bic: 'INGDDEFFXXX'}}]);
    assert.deepStrictEqual(token.payload.transfer.instructions.destinations,
        [{sepa: {iban: 'DE44500105175407324931'}}]);
    const transfer = await member.redeemToken(token, 4, 'EUR', 'lunch', [], 'cart-42-a');
    assert.strictEqual(transfer.status, 'PROCESSING');
    await axios.post(`${control}/clock`, {advance: 6});
    const settled = await member.getTransfer(transfer.id);
    assert.strictEqual(settled.status, 'SUCCESS');
    const transfers = await member.getTransfers(token.id, undefined, 10);
    assert.strictEqual(transfers.transfers.length, 1);
    // Without a token id the SDK sends tokenId=undefined: every transfer of the member.
    const everyTransfer = await member.getTransfers(undefined, undefined, 10);
    assert.deepStrictEqual(everyTransfer.transfers.map(t => t.id), [transfer.id]);
    report('transfer', {transferId: transfer.id, first: transfer.status, later: settled.status});

    // 6. An access token for accounts, balances and transactions.
    const csrf2 = Token.Util.generateNonce();
    const accessRequest = Token.createAccessTokenRequest(['ACCOUNTS', 'BALANCES', 'TRANSACTIONS',
        'TRANSFER_DESTINATIONS', 'STANDING_ORDERS'])
        .setToMemberId(member.memberId())
        .setFromAlias('EMAIL', 'payer@example.com')
        .setRedirectUrl('https://tpp.example.com/callback?session=1')
        .setBankId('iron')
        .setCSRFToken(csrf2);
    const accessStored = await member.storeTokenRequest(accessRequest);
    const accessCallback = await consent(Token.generateTokenRequestUrl(accessStored.id), 'approve');
    const access = await Token.parseTokenRequestCallbackUrl(accessCallback, csrf2);
    const rep = member.forAccessToken(access.tokenId);
    const accounts = await rep.getAccounts();
    const balance = await rep.getBalance(accounts[0].id(), 'LOW');
    const page = await rep.getTransactions(accounts[0].id(), undefined, 5);
    assert.strictEqual(page.transactions.length, 5);
    const next = await rep.getTransactions(accounts[0].id(), page.offset, 5);
    assert.notStrictEqual(next.transactions[0].id, page.transactions[0].id);
    const one = await rep.getTransaction(accounts[0].id(), page.transactions[1].id, 'LOW');
    assert.strictEqual(one.id, page.transactions[1].id);
    const both = await rep.getBalances(accounts.map(a => a.id()), 'LOW');
    assert.strictEqual(both.length, 2);
    const account = await rep.getAccount(accounts[1].id());
    assert.strictEqual(account.name(), 'Iron Savings');
    assert.strictEqual(await rep.confirmFunds(accounts[0].id(), 100, 'EUR'), true);
    // The SDK's resolveTransferDestinations reads res.transferDestinations (not res.data), so it
    // resolves to undefined whatever the server says; the call itself must succeed.
    await rep.resolveTransferDestinations(accounts[0].id());
    const orders = await rep.getStandingOrders(accounts[0].id(), undefined, 10, 'LOW');
    assert.deepStrictEqual(orders.standingOrders, []);
    const noOrder = await expectFailure(
        rep.getStandingOrder(accounts[0].id(), 'so:unknown', 'LOW'), /404/);
    assert.strictEqual(noOrder.tokenError, 'NOT_FOUND');
    const listed = await member.getAccessTokens(undefined, 10);
    assert.deepStrictEqual(listed.tokens.map(t => t.id), [access.tokenId]);
    const transferTokens = await member.getTransferTokens(undefined, 10);
    assert.deepStrictEqual(transferTokens.tokens.map(t => t.id), [token.id]);
    report('access', {tokenId: access.tokenId, accounts: accounts.map(a => a.id()),
        features: accounts[0].supportsInformation(), balance: balance.current,
        transactions: page.transactions.length, firstTransaction: page.transactions[0].description});

    // 7. Cancel both tokens; afterwards they are refused.
    const cancelled = await member.cancelToken(await member.getToken(access.tokenId));
    assert.strictEqual(cancelled.status, 'SUCCESS');
    const refusedAccess = await expectFailure(rep.getAccounts(), /403/);
    await member.cancelToken(token);
    const refusedRedeem = await expectFailure(
        member.redeemToken(token, 1, 'EUR', 'again', [], 'cart-42-b'), /400/);
    report('cancel', {status: cancelled.status,
        actions: cancelled.token.payloadSignatures.map(s => s.action),
        refusedAccess: refusedAccess.tokenError, refusedRedeem: refusedRedeem.tokenError});

    // 8. setSourceAccount names the payer's account: no bank choice, and that account pays.
    const sourceRequest = Token.createTransferTokenRequest(3, 'EUR')
        .setToMemberId(member.memberId())
        .setFromAlias('EMAIL', 'payer@example.com')
        .setSourceAccount('a:iron-savings')
        .setRedirectUrl('https://tpp.example.com/callback')
        .setCSRFToken(csrf);
    const sourceStored = await member.storeTokenRequest(sourceRequest);
    const sourceCallback = await consent(Token.generateTokenRequestUrl(sourceStored.id), 'approve');
    const sourceToken = await member.getToken(
        (await Token.parseTokenRequestCallbackUrl(sourceCallback, csrf)).tokenId);
    const source = sourceToken.payload.transfer.instructions.source.account.token.accountId;
    report('source-account', {issuer: sourceToken.payload.issuer.id, source});

    // 9. A funds confirmation request names one account; the token covers only that one.
    const fundsRequest = Token.createFundsConfirmationRequest(
        'iron', {sepa: {iban: 'DE02120300000000202051'}})
        .setToMemberId(member.memberId())
        .setFromAlias('EMAIL', 'payer@example.com')
        .setRedirectUrl('https://tpp.example.com/callback')
        .setCSRFToken(csrf);
    const fundsStored = await member.storeTokenRequest(fundsRequest);
    const fundsCallback = await consent(Token.generateTokenRequestUrl(fundsStored.id), 'approve');
    const fundsRep = member.forAccessToken(
        (await Token.parseTokenRequestCallbackUrl(fundsCallback, csrf)).tokenId);
    const enough = await fundsRep.confirmFunds('a:iron-savings', 12000, 'EUR');
    const tooMuch = await fundsRep.confirmFunds('a:iron-savings', 12000.01, 'EUR');
    const otherAccount = await expectFailure(
        fundsRep.confirmFunds('a:iron-checking', 1, 'EUR'), /403/);
    report('funds', {enough, tooMuch, otherAccount: otherAccount.tokenError});

    // 10. A request the user denies: the SDK reports "Error at bank".
    const denyRequest = Token.createTransferTokenRequest(5, 'EUR')
        .setToMemberId(member.memberId())
        .setRedirectUrl('https://tpp.example.com/callback')
        .setBankId('iron')
        .setCSRFToken(csrf);
    const denyStored = await member.storeTokenRequest(denyRequest);
    const denied = await consent(Token.generateTokenRequestUrl(denyStored.id), 'deny');
    const bankError = await expectFailure(
        Token.parseTokenRequestCallbackUrl(denied, csrf), /Error at bank: access_denied/);
    report('deny', {message: bankError.message});

    // 11. Paging through the member's transfer tokens with the offset each page returns.
    const firstPage = await member.getTransferTokens(undefined, 1);
    const secondPage = await member.getTransferTokens(firstPage.offset, 1);
    assert.strictEqual(secondPage.offset, undefined);
    report('token-pages', {ids: [...firstPage.tokens, ...secondPage.tokens].map(t => t.id),
        expected: [token.id, sourceToken.id]});
    report('done');
}

main().catch(err => {
    const detail = err.response ? ` [${err.response.status} ${err.response.headers['token-error']}: ${err.response.data}]` : '';
    console.error(`FAILED: ${err.stack}${detail}`);
    process.exit(1);
});
