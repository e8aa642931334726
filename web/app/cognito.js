// Cognito's user-pool API, called from the browser exactly as the AWS SDK would call the
// public (unsigned) operations: POST / with an X-Amz-Target header. No SDK, no secrets: the
// app client has no client secret and allows USER_PASSWORD_AUTH and refresh only.

export class CognitoError extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}

export class Cognito {
  constructor(endpoint, clientId) {
    this.endpoint = endpoint.replace(/\/+$/, "") + "/";
    this.clientId = clientId;
  }

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
      const code = String(data.__type || "UnknownError").split("#").pop();
      throw new CognitoError(code, data.message || data.Message || code);
    }
    return data;
  }

  signIn(email, password) {
    return this.call("InitiateAuth", {
      ClientId: this.clientId,
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: email, PASSWORD: password },
    });
  }

  respond(challengeName, session, responses) {
    return this.call("RespondToAuthChallenge", {
      ClientId: this.clientId,
      ChallengeName: challengeName,
      Session: session,
      ChallengeResponses: responses,
    });
  }

  /** First sign-in of an invited user: start enrolling an authenticator app. */
  associateSoftwareToken(session) {
    return this.call("AssociateSoftwareToken", { Session: session });
  }

  verifySoftwareToken(session, code) {
    return this.call("VerifySoftwareToken", {
      Session: session,
      UserCode: code,
      FriendlyDeviceName: "Authenticator app",
    });
  }

  refresh(refreshToken) {
    return this.call("InitiateAuth", {
      ClientId: this.clientId,
      AuthFlow: "REFRESH_TOKEN_AUTH",
      AuthParameters: { REFRESH_TOKEN: refreshToken },
    });
  }
}

/** Words for the errors a person can act on; anything else gets a generic sentence. */
export function explain(error) {
  switch (error && error.code) {
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

/** The claims of a JWT (not verified here: the API verifies every token it receives). */
export function claims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
  } catch {
    return {};
  }
}
