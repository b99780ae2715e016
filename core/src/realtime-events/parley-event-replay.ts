import type { ClientEventBody } from '../media/client-events.js';

type Ev<T extends ClientEventBody['type']> = Extract<ClientEventBody, { type: T }>;

/**
 * What is going on in a session right now, as the Parley events that say so.
 * A client's `oai-events` channel opens a few round trips after media starts
 * (SCTP and DCEP ride on DTLS), so a turn or a reply may already be under
 * way: replaying these to the new channel makes its events start consistent
 * (a speech_stopped always follows a speech_started it has seen).
 */
export class ParleyEventReplay {
  private agentState?: Ev<'agent.state'>;
  private userSpeaking = false;
  private responding = false;

  observe(e: ClientEventBody): void {
    switch (e.type) {
      case 'agent.state':
        this.agentState = e;
        break;
      case 'speech.started':
        this.userSpeaking = true;
        break;
      case 'speech.stopped':
        this.userSpeaking = false;
        break;
      case 'response.started':
        this.responding = true;
        break;
      case 'response.done':
        this.responding = false;
        break;
      default:
        break;
    }
  }

  /** The events that bring a new observer up to now, oldest first. */
  current(): ClientEventBody[] {
    const out: ClientEventBody[] = [];
    if (this.userSpeaking) out.push({ type: 'speech.started' });
    if (this.responding) out.push({ type: 'response.started' });
    if (this.agentState) out.push(this.agentState);
    return out;
  }
}
