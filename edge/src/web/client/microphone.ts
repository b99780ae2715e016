import { CallFailure, microphoneFailure } from './failures.js';

export interface MediaEnvironment {
  mediaDevices?: Pick<MediaDevices, 'getUserMedia'>;
  isSecureContext: boolean;
}

/**
 * Opens the microphone with the browser's voice processing on: echo
 * cancellation matters here, since the agent's audio plays from the same
 * device that records.
 */
export async function openMicrophone(env: MediaEnvironment): Promise<MediaStream> {
  // Browsers hide mediaDevices entirely on insecure origins.
  if (!env.mediaDevices?.getUserMedia) {
    throw env.isSecureContext
      ? new CallFailure('no-mic', { detail: 'this browser cannot capture audio' })
      : new CallFailure('insecure-context');
  }
  try {
    return await env.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      video: false,
    });
  } catch (err) {
    throw microphoneFailure(err);
  }
}

export function closeMicrophone(stream: MediaStream | undefined): void {
  for (const t of stream?.getTracks() ?? []) t.stop();
}
