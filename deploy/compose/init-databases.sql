-- One database per service (DESIGN §9).
CREATE DATABASE auth;
CREATE DATABASE platform_core;
CREATE DATABASE base;
CREATE DATABASE financial;
