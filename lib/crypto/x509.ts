/**
 * The one door to @peculiar/x509: its dependency injection (tsyringe) needs the
 * reflect-metadata polyfill loaded first, so every module imports x509 from here.
 */
import "reflect-metadata";

export * from "@peculiar/x509";
