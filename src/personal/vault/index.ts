/** The personal vault: encrypted local storage of everything Kith keeps for her. */
export { Vault, type VaultOptions } from './vault.js';
export * from './export.js';
export * from './relationshipRepo.js';
export * from './keyRepo.js';
export * from './messageRepo.js';
export * from './receiptRepo.js';
export * from './outboxRepo.js';
export * from './profileRepo.js';
export * from './deliveryRepo.js';
export * from './disclosureRequestRepo.js';
export * from './consentRepo.js';
export * from './disclosedFieldRepo.js';
export * from './credentialRepo.js';
export * from './agreementRepo.js';
export { SeenRepo } from './seenRepo.js';
export { SettingsRepo, settingDataSchema } from './settingsRepo.js';
export { DEFAULT_SCRYPT, keyringSchema, type Keyring } from './keyring.js';
