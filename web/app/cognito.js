// @ts-check
// Cognito's user-pool API, called from the browser exactly as the AWS SDK would call the
// public (unsigned) operations: POST / with an X-Amz-Target header. No SDK, no secrets (the
// app client has no client secret). The inbox signs in with USER_PASSWORD_AUTH: the
// password goes over TLS to Cognito only, never to Quietline's API, and the TOTP challenge
// follows; or with a passkey through CUSTOM_AUTH, whose triggers accept one user-verified
// passkey answer and nothing else (functions/logic/passkey_sign_in.py). The staff API,
// not the page, renews ID tokens (session.js).

/**
 * The tokens of a completed sign-in. A refresh's answer has no RefreshToken.
 * @typedef {object} AuthenticationResult
 * @property {string} IdToken
 * @property {string} [RefreshToken]
 */
/**
 * What InitiateAuth and RespondToAuthChallenge answer: tokens, or the next challenge.
 * @typedef {object} AuthResponse
 * @property {AuthenticationResult} [AuthenticationResult]
 * @property {string} [ChallengeName]
 * @property {Record<string, string>} [ChallengeParameters]
 * @property {string} [Session]
 */
/**
 * @typedef {object} AssociateSoftwareTokenResponse
 * @property {string} SecretCode
 * @property {string} Session
 */
/**
 * @typedef {object} VerifySoftwareTokenResponse
 * @property {"SUCCESS" | "ERROR"} Status
 * @property {string} Session
 */
/**
 * The claims the inbox reads from an ID token (unverified: see claims()).
 * @typedef {object} Claims
 * @property {number} [exp]
 * @property {string} [email]
 */

export class CognitoError extends Error {
  /**
   * @param {string} code Cognito's error type, e.g. "NotAuthorizedException"
   * @param {string} [message]
   */
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}

export class Cognito {
  /**
   * @param {string} endpoint
   * @param {string} clientId
   */
  constructor(endpoint, clientId) {
    this.endpoint = endpoint.replace(/\/+$/, "") + "/";
    this.clientId = clientId;
  }

  /**
   * One operation; its JSON answer, or a CognitoError.
   * @param {string} operation
   * @param {object} body
   * @returns {Promise<unknown>}
   */
  async call(operation, body) {
    let response;
    try {
      response = await fetch(this.endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": `AWSCognitoIdentityProviderService.${operation}`,
        },
        body: JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
      });
    } catch {
      throw new CognitoError("NetworkError", "Cannot reach the sign-in service.");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      /** @type {{ __type?: string, message?: string, Message?: string }} */
      const failure = data;
      const code = String(failure.__type || "UnknownError").split("#").pop() ?? "";
      throw new CognitoError(code, failure.message || failure.Message || code);
    }
    return data;
  }

  /**
   * @param {string} email
   * @param {string} password
   * @returns {Promise<AuthResponse>}
   */
  async signIn(email, password) {
    return /** @type {AuthResponse} */ (
      await this.call("InitiateAuth", {
        ClientId: this.clientId,
        AuthFlow: "USER_PASSWORD_AUTH",
        AuthParameters: { USERNAME: email, PASSWORD: password },
      })
    );
  }

  /**
   * Start a passkey sign-in: Cognito answers with a CUSTOM_CHALLENGE whose parameters hold
   * the WebAuthn request options (the same for any address, known or not).
   * @param {string} email
   * @returns {Promise<AuthResponse>}
   */
  async startPasskeySignIn(email) {
    return /** @type {AuthResponse} */ (
      await this.call("InitiateAuth", {
        ClientId: this.clientId,
        AuthFlow: "CUSTOM_AUTH",
        AuthParameters: { USERNAME: email },
      })
    );
  }

  /**
   * @param {string} challengeName
   * @param {string} session
   * @param {Record<string, string>} responses
   * @returns {Promise<AuthResponse>}
   */
  async respond(challengeName, session, responses) {
    return /** @type {AuthResponse} */ (
      await this.call("RespondToAuthChallenge", {
        ClientId: this.clientId,
        ChallengeName: challengeName,
        Session: session,
        ChallengeResponses: responses,
      })
    );
  }

  /**
   * First sign-in of an invited user: start enrolling an authenticator app.
   * @param {string} session
   * @returns {Promise<AssociateSoftwareTokenResponse>}
   */
  async associateSoftwareToken(session) {
    return /** @type {AssociateSoftwareTokenResponse} */ (
      await this.call("AssociateSoftwareToken", { Session: session })
    );
  }

  /**
   * @param {string} session
   * @param {string} code
   * @returns {Promise<VerifySoftwareTokenResponse>}
   */
  async verifySoftwareToken(session, code) {
    return /** @type {VerifySoftwareTokenResponse} */ (
      await this.call("VerifySoftwareToken", {
        Session: session,
        UserCode: code,
        FriendlyDeviceName: "Authenticator app",
      })
    );
  }
}

/**
 * Words for the errors a person can act on; anything else gets a generic sentence.
 * @param {unknown} error
 */
export function explain(error) {
  switch (error instanceof CognitoError ? error.code : null) {
    case "NotAuthorizedException":
      return "Incorrect email or password, or that step took too long. Please try again.";
    case "UserNotFoundException":
      return "Incorrect email or password.";
    case "CodeMismatchException":
    case "EnableSoftwareTokenMFAException":
      return "That code is not right. Check your authenticator app and try again.";
    case "ExpiredCodeException":
      return "That code has expired. Enter the current one.";
    case "InvalidPasswordException":
      return "That password does not meet the rules (14+ characters with upper and lower case, a digit and a symbol).";
    case "PasswordResetRequiredException":
      return "Your password must be reset. Ask your practice's administrator.";
    case "TooManyRequestsException":
    case "LimitExceededException":
      return "Too many attempts. Wait a minute and try again.";
    case "NetworkError":
      return "Cannot reach the sign-in service. Check your connection.";
    default:
      return "Sign-in failed. Please try again.";
  }
}

/**
 * The claims of a JWT (not verified here: the API verifies every token it receives).
 * @param {string} token
 * @returns {Claims}
 */
export function claims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
  } catch {
    return {};
  }
}
